// `worldloop explain`'s pure core: the key material recomputed into the recorded key, the decision, and
// the differences against another run (fields, JSON pointers of the inputs, env fingerprint keys).
import { describe, expect, it } from 'vitest';
import type { AdmitResult } from '../../activities/types';
import { explainRuns, runKey } from '../../src/cli/commands/explain';
import { cacheKey } from '../../src/hashing/cache-key';
import { envFingerprint } from '../../src/hashing/env-fingerprint';
import { inputsHash } from '../../src/hashing/inputs-hash';
import { jsonDifferences } from '../../src/hashing/json-diff';

const SALT = 'worldloop-cache-v1';
const fp = (memory_mb: string) =>
  envFingerprint({
    adapter: 'local',
    cpu: '0.5',
    gpu: 'none',
    image: 'r/x@sha256:aa',
    memory_mb,
    network: 'none',
    platform: 'linux/amd64',
    secrets: [],
    timeout_s: '30',
  });

function admitted(inputs: unknown, opts: { memory?: string; salt?: string; use_cache?: boolean } = {}): AdmitResult {
  const base = {
    image_digest: 'sha256:aa',
    platform: 'linux/amd64',
    inputs_hash: inputsHash(inputs),
    mode: 'mock' as const,
    env_fingerprint: fp(opts.memory ?? '128'),
  };
  return {
    ...base,
    cache_key: cacheKey({ processor_ref: 'text/stats@1', ...base, salt: opts.salt ?? SALT }),
    use_cache: opts.use_cache ?? true,
    deterministic: true,
  } as AdmitResult;
}

const run = (id: string, inputs: unknown, opts: Parameters<typeof admitted>[1] = {}, source?: string) => {
  const a = admitted(inputs, opts);
  return { key: runKey(id, a, 'text/stats@1', SALT), admitted: a, inputs, cache_source: source };
};

describe('runKey', () => {
  it('recomputes the recorded key from the material and this build’s salt', () => {
    const k = run('a', { text: 'x' }).key;
    expect(k.key_verified).toBe(true);
    expect(k.material).toMatchObject({ processor_ref: 'text/stats@1', salt: SALT, mode: 'mock' });
    expect(k.material.inputs_hash).toMatch(/^jcs-blake3-v1:[0-9a-f]{64}$/);
  });

  it('says so when the key was made with another salt', () => {
    const k = run('a', { text: 'x' }, { salt: 'old-salt' }).key;
    expect(k.key_verified).toBe(false);
    expect(k.material.salt).toMatch(/another salt/);
  });
});

describe('explainRuns', () => {
  it('a miss against a run with other inputs names inputs_hash and the pointers', () => {
    const e = explainRuns(run('b', { text: 'x', opts: { n: [1, 2] } }), run('a', { text: 'y', opts: { n: [1, 3] } }));
    expect(e.decision).toEqual({ cache: 'miss' });
    expect(e.differences).toEqual([
      expect.objectContaining({ field: 'inputs_hash', pointers: ['/opts/n/1', '/text'] }),
    ]);
    expect(e.reason).toBe("cache miss: the key differs from run a's in inputs_hash");
  });

  it('a miss from another environment names the fingerprint keys', () => {
    const e = explainRuns(run('b', { text: 'x' }, { memory: '256' }), run('a', { text: 'x' }));
    expect(e.differences).toEqual([
      expect.objectContaining({ field: 'env_fingerprint', fingerprint_keys: ['memory_mb'] }),
    ]);
  });

  it('a hit names its source; the same key with a miss says why', () => {
    expect(explainRuns(run('b', { text: 'x' }, {}, 'a'), run('a', { text: 'x' })).reason).toMatch(
      /cache hit: .* run a$/,
    );
    const same = explainRuns(run('b', { text: 'x' }), run('a', { text: 'x' }));
    expect(same.differences).toEqual([]);
    expect(same.reason).toMatch(/same key as run a/);
    expect(explainRuns(run('b', { text: 'x' }), undefined).reason).toMatch(/no earlier run/);
    expect(explainRuns(run('b', { text: 'x' }, { use_cache: false }), undefined).decision).toEqual({
      cache: 'off',
      why: 'caching turned off for the run',
    });
  });
});

describe('jsonDifferences', () => {
  it('finds the outermost differing places in document order, numbers by value', () => {
    expect(jsonDifferences({ a: 4.5, b: [1, { c: 'x' }], d: 1 }, { a: 4.5, b: [1, { c: 'y' }, 3], e: 1 })).toEqual([
      '/b/1/c',
      '/b/2',
      '/d',
      '/e',
    ]);
    expect(jsonDifferences({ 'a/b': 1 }, { 'a/b': '1' })).toEqual(['/a~1b']);
    expect(jsonDifferences([1], { 0: 1 })).toEqual(['']);
    expect(jsonDifferences({ x: [1, 2] }, { x: [1, 2] })).toEqual([]);
  });

  it('stops at the limit', () => {
    const a = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    expect(jsonDifferences(a, {}, 10)).toHaveLength(10);
  });
});
