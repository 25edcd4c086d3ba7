// `import spec from 'worldloop-registry:<ns>/<name>@<major>'` is resolved by the processor bundler
// (src/registry/bundle.ts): it embeds the matching entry of registry/<ns>/<name>.yaml into the image, so
// the YAML stays the single source of truth for the input schema.
declare module 'worldloop-registry:*' {
  // A relative `import type` is not allowed inside an ambient module declaration; import() is the only way.
  // eslint-disable-next-line @typescript-eslint/consistent-type-imports
  const spec: import('./types').EmbeddedSpec;
  export default spec;
}
