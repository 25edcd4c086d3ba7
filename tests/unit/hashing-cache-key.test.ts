// Golden values computed independently by tests/fixtures/hashing/golden.py (Python `blake3` from PyPI over
// json.dumps(sort_keys=True) text), not by our own code.
import { describe, expect, it } from 'vitest';
import { cacheKey, type CacheKeyFields } from '../../src/hashing/cache-key';
import { envFingerprint } from '../../src/hashing/env-fingerprint';
import { expectCode } from './helpers/expect-code';

const IMAGE = `ghcr.io/acme/echo@sha256:${'ab'.repeat(32)}`;
const FIELDS: CacheKeyFields = {
  processor_ref: 'acme/echo@1',
  image_digest: `sha256:${'ab'.repeat(32)}`,
  platform: 'linux/amd64',
  inputs_hash: {
    hash_schema: 'jcs-blake3-v1',
    value: '4910e00355027d49e9e5e022e2dbb4531432eea008524f3068c5948875f61045',
  },
  mode: 'mock',
  env_fingerprint: envFingerprint({
    adapter: 'local',
    cpu: 2,
    gpu: 'none',
    image: IMAGE,
    memory_mb: 512,
    network: 'none',
    platform: 'linux/amd64',
    secrets: ['OTHER', 'API_KEY'],
    timeout_s: 60,
  }),
  salt: '',
};

describe('cacheKey', () => {
  it('matches the independent golden values', () => {
    expect(cacheKey(FIELDS)).toBe('055ebfe185c04ebc74145121b8e505710b1bf147c54bfab7050f8c9154d4301c');
    expect(cacheKey({ ...FIELDS, salt: 'v2' })).toBe(
      'dfd38e13fb36b69e654d7d7e300ec715b9134bd3cf1cebb42c24b78bb76b6895',
    );
  });

  it('changes with every field', () => {
    const base = cacheKey(FIELDS);
    const variants: CacheKeyFields[] = [
      { ...FIELDS, processor_ref: 'acme/echo@2' },
      { ...FIELDS, image_digest: `sha256:${'cd'.repeat(32)}` },
      { ...FIELDS, platform: 'linux/arm64' },
      { ...FIELDS, inputs_hash: { ...FIELDS.inputs_hash, value: '0'.repeat(64) } },
      { ...FIELDS, mode: 'real' },
      { ...FIELDS, env_fingerprint: FIELDS.env_fingerprint.replace('cpu=2', 'cpu=4') },
      { ...FIELDS, salt: 'x' },
    ];
    const keys = new Set(variants.map(cacheKey));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(base)).toBe(false);
  });

  it.each([
    ['an unknown field', { ...FIELDS, extra: 1 }, /unrecognized|extra/i],
    ['a missing field', { ...FIELDS, salt: undefined }, /salt/],
    ['a bad mode', { ...FIELDS, mode: 'dry' }, /mode/],
    [
      'a malformed inputs_hash',
      { ...FIELDS, inputs_hash: { hash_schema: 'jcs-blake3-v1', value: 'xyz' } },
      /inputs_hash/,
    ],
    ['an empty processor_ref', { ...FIELDS, processor_ref: '' }, /processor_ref/],
  ])('rejects %s with ERR_INPUTS', (_name, fields, message) => {
    expect(expectCode('ERR_INPUTS', () => cacheKey(fields as unknown as CacheKeyFields))).toMatch(message);
  });
});
