// env_fingerprint (docs/architecture.md §5): the execution environment as one readable, canonical line —
// `adapter=…;cpu=…;gpu=…;image=…;memory_mb=…;network=…;platform=…;secrets=A,B;timeout_s=…` with keys
// sorted. It goes into receipts and the cache key, so two spellings of one environment must not exist:
// every key is required, unknown keys are refused, and values may not contain the separators.
import { WorldloopError } from '../contracts/errors';

export const ENV_FINGERPRINT_KEYS = [
  'adapter',
  'cpu',
  'gpu',
  'image',
  'memory_mb',
  'network',
  'platform',
  'secrets',
  'timeout_s',
] as const;
export type EnvFingerprintKey = (typeof ENV_FINGERPRINT_KEYS)[number];
/**
 * Keys printed only when given (ADR 0009): `config` is the digest of the processor settings a run was given.
 * A run without settings keeps exactly the fingerprint (and cache key) it had before the key existed.
 */
export const OPTIONAL_ENV_FINGERPRINT_KEYS = ['config'] as const;

type Scalar = string | number | boolean;
export type EnvFingerprintFields = { readonly [K in Exclude<EnvFingerprintKey, 'secrets'>]: Scalar } & {
  /** Secret names only, never values. */
  readonly secrets: readonly string[];
  readonly config?: Scalar;
};
/** What parseEnvFingerprint gives back: the scalars as their printed strings. */
export type ParsedEnvFingerprint = { [K in Exclude<EnvFingerprintKey, 'secrets'>]: string } & {
  secrets: string[];
  config?: string;
};

const KNOWN = new Set<string>([...ENV_FINGERPRINT_KEYS, ...OPTIONAL_ENV_FINGERPRINT_KEYS]);
const OPTIONAL = new Set<string>(OPTIONAL_ENV_FINGERPRINT_KEYS);
// Every key in print order (sorted), required and optional together.
const PRINT_ORDER = [...KNOWN].sort();

const bad = (detail: string): WorldloopError => new WorldloopError('ERR_INPUTS', `env_fingerprint: ${detail}`);

function printScalar(key: string, v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' && Number.isFinite(v)) s = String(v);
  else if (typeof v === 'boolean') s = String(v);
  else throw bad(`${key} must be a string, a finite number or a boolean`);
  if (/[;=]/.test(s)) throw bad(`${key} value ${JSON.stringify(s)} contains ";" or "="`);
  return s;
}

function printSecrets(v: unknown): string {
  if (!Array.isArray(v) || !v.every((n): n is string => typeof n === 'string')) {
    throw bad('secrets must be an array of secret names');
  }
  const names = [...v].sort();
  names.forEach((n, i) => {
    if (n === '' || /[;=,]/.test(n)) throw bad(`secret name ${JSON.stringify(n)} is empty or contains ";", "=" or ","`);
    if (i > 0 && names[i - 1] === n) throw bad(`secret name ${JSON.stringify(n)} is listed twice`);
  });
  return names.join(',');
}

export function envFingerprint(fields: EnvFingerprintFields): string {
  const rec = fields as unknown as Record<string, unknown>;
  const unknown = Object.keys(rec).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw bad(`unknown key(s) ${unknown.join(', ')}`);
  return PRINT_ORDER.flatMap((key) => {
    if (!Object.prototype.hasOwnProperty.call(rec, key) || rec[key] === undefined) {
      if (OPTIONAL.has(key)) return [];
      throw bad(`missing key ${key}`);
    }
    return [`${key}=${key === 'secrets' ? printSecrets(rec[key]) : printScalar(key, rec[key])}`];
  }).join(';');
}

/** Reads a fingerprint back; only the canonical form envFingerprint prints is accepted. */
export function parseEnvFingerprint(text: string): ParsedEnvFingerprint {
  const out: Record<string, string | string[]> = {};
  const pairs = text.split(';');
  pairs.forEach((pair, i) => {
    const eq = pair.indexOf('=');
    if (eq < 0) throw bad(`pair ${i + 1} ${JSON.stringify(pair)} has no "="`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (!KNOWN.has(key)) throw bad(`unknown key ${JSON.stringify(key)}`);
    if (key in out) throw bad(`key ${key} appears twice`);
    if (value.includes('=')) throw bad(`value of ${key} contains "="`);
    out[key] = key === 'secrets' ? (value === '' ? [] : value.split(',')) : value;
  });
  const missing = ENV_FINGERPRINT_KEYS.filter((k) => !(k in out));
  if (missing.length > 0) throw bad(`missing key(s) ${missing.join(', ')}`);
  const parsed = out as ParsedEnvFingerprint;
  if (envFingerprint(parsed) !== text) throw bad('not in canonical form (keys or secret names out of order)');
  return parsed;
}
