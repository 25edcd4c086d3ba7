export { loadAllowList, parseAllowList } from './allow-list';
export { createSecretResolver, type SecretResolver, type SecretResolverOptions } from './resolver';
