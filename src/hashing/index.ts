// Public surface of src/hashing: explicit named re-exports only.
export {
  BLAKE3_BACKENDS,
  blake3Backend,
  blake3BackendByName,
  blake3File,
  blake3Hex,
  createBlake3,
  createSha256,
  hashFile,
  initBlake3,
  type Blake3BackendName,
  type StreamingHash,
} from './blake3';
export { CacheKeyFieldsSchema, cacheKey, type CacheKeyFields } from './cache-key';
export {
  ENV_FINGERPRINT_KEYS,
  envFingerprint,
  parseEnvFingerprint,
  type EnvFingerprintFields,
  type EnvFingerprintKey,
  type ParsedEnvFingerprint,
} from './env-fingerprint';
export { HASH_SCHEMA, inputsHash } from './inputs-hash';
export { canonicalize, canonicalizeToBytes, jsonPointer, serializeNumber } from './jcs';
export { parseJsonBytes, parseJsonText, type ParseJsonOptions } from './json-text';
export { exactNumberForm } from './number-literal';
export { jsonDifferences } from './json-diff';
