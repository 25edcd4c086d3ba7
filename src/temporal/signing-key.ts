// The attestation signing key as configured for this process (docs/provenance.md §Keys): the secret named by
// WORLDLOOP_SIGNING_KEY_SECRET, read through the one resolver, else the key file under the state folder.
import type { Config } from '../config';
import { defaultKeyFile, loadKeyFile, signingKeyFromPem, type SigningKey } from '../provenance';
import { createSecretResolver, loadAllowList } from '../secrets';
import { defaultRedactor } from '../log';

/** The one secret resolver in real mode: the signing key is the worker's own, never a processor secret. */
export function realSecretResolver(cfg: Config) {
  return createSecretResolver({
    mode: 'real',
    allow: loadAllowList(cfg.secretsAllowFile),
    env: cfg.secretEnv,
    secretsDir: cfg.secretsDir,
    redactor: defaultRedactor,
  });
}

/** The configured signing key (the named secret, else the state-folder file); never creates one. */
export async function configuredSigningKey(cfg: Config): Promise<SigningKey> {
  if (cfg.signingKeySecret) {
    return signingKeyFromPem(realSecretResolver(cfg).resolve(cfg.signingKeySecret), `secret:${cfg.signingKeySecret}`);
  }
  return loadKeyFile(defaultKeyFile(cfg.stateDir));
}
