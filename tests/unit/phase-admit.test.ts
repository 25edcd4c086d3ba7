// Admit through the real activity: every refusal with its code, and what it computes on success.
import { afterEach, describe, expect, it } from 'vitest';
import type { Predicate } from '../../src/contracts';
import {
  admit,
  failureCode,
  inActivity,
  phaseEnv,
  prefixOf,
  registryEntry,
  request,
  settle,
  type PhaseEnv,
} from './phase-harness';

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const admitWith = (e: PhaseEnv, req = request(), writePrefix = prefixOf('e1')) =>
  inActivity(e.activities.admit, { execution_id: 'e1', request: req, write_prefix: writePrefix });

describe('admit refuses', () => {
  it('real mode in CI (the guard again, on the worker) → ERR_CI_SAFETY', async () => {
    env = await phaseEnv({ ci: true });
    expect(await failureCode(admitWith(env, request({ mode: 'real' })))).toBe('ERR_CI_SAFETY');
  });

  it('a processor the registry does not know → ERR_UNKNOWN_PROCESSOR', async () => {
    env = await phaseEnv();
    expect(await failureCode(admitWith(env, request({ processor_ref: 'test/other@1' })))).toBe('ERR_UNKNOWN_PROCESSOR');
  });

  it('an adapter this worker has not configured → ERR_ADAPTER_UNAVAILABLE', async () => {
    env = await phaseEnv();
    expect(await failureCode(admitWith(env, request({ adapter: 'modal' })))).toBe('ERR_ADAPTER_UNAVAILABLE');
  });

  it('no pin for the worker platform → ERR_IMAGE_UNPINNED', async () => {
    const entry = registryEntry({ image: { repository: '127.0.0.1:5000/worldloop/worldloop/echo', platforms: {} } });
    env = await phaseEnv({ entry });
    expect(await failureCode(admitWith(env))).toBe('ERR_IMAGE_UNPINNED');
  });

  it('inputs the processor schema refuses → ERR_INPUTS', async () => {
    env = await phaseEnv();
    expect(await failureCode(admitWith(env, request({ inputs: { text: 1 } })))).toBe('ERR_INPUTS');
    expect(await failureCode(admitWith(env, request({ inputs: { text: 'x', extra: true } })))).toBe('ERR_INPUTS');
  });

  it('a write prefix outside world://artifacts/ → ERR_BAD_FACET; a smuggled one → its path code', async () => {
    env = await phaseEnv();
    expect(await failureCode(admitWith(env, request(), 'world://streams/x/'))).toBe('ERR_BAD_FACET');
    expect(await failureCode(admitWith(env, request(), 'world://artifacts/a/%2e%2E/b/'))).toBe('ERR_DOT_SEGMENTS');
  });

  it('real mode without a required secret → ERR_MISSING_SECRET (by name; nothing is read)', async () => {
    env = await phaseEnv({ entry: registryEntry({ secrets: { required: ['API_KEY'] } }) });
    expect(await failureCode(admitWith(env, request({ mode: 'real' })))).toBe('ERR_MISSING_SECRET');
  });

  it('a plan that does not exist → ERR_PLAN_NOT_FOUND', async () => {
    env = await phaseEnv();
    expect(await failureCode(admitWith(env, request({ plan: 'nope' })))).toBe('ERR_PLAN_NOT_FOUND');
  });

  it('an admission predicate that does not hold → ERR_PREDICATE_FAILED', async () => {
    env = await phaseEnv();
    const missing: Predicate = { kind: 'artifact.exists', path: 'world://artifacts/needed/input.txt' };
    expect(await failureCode(admitWith(env, request({ predicates: { admission: [missing], success: [] } })))).toBe(
      'ERR_PREDICATE_FAILED',
    );
  });
});

describe('admit computes', () => {
  it('the hashes, a mock network of none, the reserve bound; no cache hit on a fresh world', async () => {
    env = await phaseEnv({
      entry: registryEntry({ runtime: { cpu: 1, memory_mb: 64, timeout_s: 5, network: 'egress' } }),
    });
    const a = await admit(env, 'e1');
    expect(a).toMatchObject({ write_prefix: prefixOf('e1'), reserve_micro: 100, use_cache: true, mode: 'mock' });
    expect(a.runtime.network).toBe('none');
    expect(a.env_fingerprint).toContain('network=none');
    expect(a.cache_hit).toBeUndefined();
    // Same inputs, another execution: the same cache key (the execution id is not part of it).
    expect((await admit(env, 'e2')).cache_key).toBe(a.cache_key);
  });

  it('a verified cache hit once an identical run has settled; none with cache: false', async () => {
    env = await phaseEnv();
    await settle(env, 'e1');
    expect((await admit(env, 'e2')).cache_hit).toMatchObject({ execution_id: 'e1', write_prefix: prefixOf('e1') });
    const forced = await admit(env, 'e3', request({ cache: false }));
    expect(forced).toMatchObject({ use_cache: false });
    expect(forced.cache_hit).toBeUndefined();
  });
});
