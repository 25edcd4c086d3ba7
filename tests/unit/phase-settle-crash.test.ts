// Issue 14 item 3: Settle's tail (publish → charge → release the leases → record the cache entry → attest) must
// complete on retry whatever step the previous attempt died at. A wrapper around the real world store,
// ledger and leases throws once at mutating call k (before or after doing it); the retry runs with the
// plain dependencies, as a new attempt on another worker would.
import { afterEach, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../activities';
import type { SettleCachedInput } from '../../activities/types';
import { attestationPath } from '../../src/contracts/attestation';
import { PLAN, admit, inActivity, phaseEnv, text, upToSettle, writeOutputs, type PhaseEnv } from './phase-harness';

const MUTATIONS = {
  world: ['bind', 'putBlob', 'putJsonIfAbsent'],
  plans: ['charge', 'release'],
  leases: ['releaseLeases'],
} as const;

type When = 'before' | 'after';
/** Counts a call when it starts (returning its number) and may throw before or after it. */
type Tick = (name: string, moment: When, step?: number) => number;

/**
 * Wraps `target` so that mutating call number `crashAt` (counted across all wrapped objects, in the order the
 * calls start) throws. Each call keeps its own number, so "after" still means after that very call even when
 * Settle runs independent writes at once.
 */
function crashing<T extends object>(target: T, names: readonly string[], tick: Tick, inflight: Promise<unknown>[]): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof value !== 'function') return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(t);
      if (typeof prop !== 'string' || !names.includes(prop)) return fn;
      return (...args: unknown[]) => {
        const call = (async () => {
          const step = tick(prop, 'before');
          const out = await fn(...args);
          tick(prop, 'after', step);
          return out;
        })();
        inflight.push(call.catch(() => undefined));
        return call;
      };
    },
  });
}

/**
 * Only the call that crashes fails: writes Settle started beside it (at once) carry on and may land, the worst
 * case for the order of its steps. `settled()` waits for them, so the retry sees everything that landed.
 */
function crashingDeps(
  deps: ActivityDeps,
  crashAt: number,
  when: When,
  log: string[],
): ActivityDeps & { settled(): Promise<unknown> } {
  let n = 0;
  const inflight: Promise<unknown>[] = [];
  const tick: Tick = (name, moment, step) => {
    if (moment === 'before') {
      step = ++n;
      log.push(name);
    }
    if (step === crashAt && moment === when) throw new Error(`injected crash ${when} step ${crashAt} (${name})`);
    return step!;
  };
  return {
    ...deps,
    world: crashing(deps.world, MUTATIONS.world, tick, inflight),
    plans: crashing(deps.plans, MUTATIONS.plans, tick, inflight),
    leases: crashing(deps.leases, MUTATIONS.leases, tick, inflight),
    settled: () => Promise.all(inflight),
  };
}

const script = (out: string, args: Parameters<typeof writeOutputs>[1]) =>
  writeOutputs(
    out,
    args,
    [
      { relpath: 'outputs/a.txt', bytes: text('alpha') },
      { relpath: 'outputs/b.txt', bytes: text('beta') },
    ],
    { cost: 7 },
  );

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

/** The steps of one clean Settle, in order (found by running it with a crash that never fires). */
async function settleSteps(): Promise<string[]> {
  const e = await phaseEnv({ script });
  try {
    const { settleInput } = await upToSettle(e, 'probe');
    const log: string[] = [];
    await inActivity(createActivities(crashingDeps(e.deps, Infinity, 'before', log)).settle, settleInput);
    return log;
  } finally {
    await e.cleanup();
  }
}

const steps = await settleSteps();

describe('a Settle retry completes what the crashed attempt left', () => {
  it('the tail has the steps the contract names, publish first, then the cache record and the attestation', () => {
    expect(steps.slice(-5)).toEqual(['charge', 'releaseLeases', 'putJsonIfAbsent', 'putBlob', 'bind']);
    // two outputs, outputs.json, two receipts, the attestation
    expect(steps.filter((s) => s === 'bind')).toHaveLength(6);
  });

  const cases = (['before', 'after'] as const).flatMap((when) => steps.map((name, i) => [i + 1, name, when] as const));
  it.each(cases)(
    'crash at step %i (%s), %s it: charged exactly once, nothing reserved or leased, cached',
    async (k, _name, when) => {
      env = await phaseEnv({ script });
      const { settleInput } = await upToSettle(env, 'e1');
      const crashing = crashingDeps(env.deps, k, when, []);
      await expect(inActivity(createActivities(crashing).settle, settleInput)).rejects.toMatchObject({
        type: 'ERR_INTERNAL',
      });
      await crashing.settled();

      const envelope = await inActivity(env.activities.settle, settleInput);
      // A third attempt (say, the second one's result was lost) changes nothing.
      expect(await inActivity(env.activities.settle, settleInput)).toEqual(envelope);

      expect(envelope.meta.cost_micro).toBe(7);
      const plan = await env.plans.getPlan(PLAN);
      expect(plan).toMatchObject({ spent_micro: 7, reserved_micro: 0, available_micro: 993 });
      expect(plan.reservations).toEqual([
        expect.objectContaining({ execution_id: 'e1', status: 'charged', charged_micro: 7 }),
      ]);
      expect(plan.events).toBe(3); // plan.created, reserve, charge — one charge event, never two
      expect(await env.leases.activeLeases()).toEqual([]);
      const { cache_key } = await admit(env, 'probe');
      expect(await env.world.getJson(`cache/${cache_key}`)).toMatchObject({ execution_id: 'e1', cost_micro: 7 });
      expect(envelope.outputs).toHaveLength(2);
      expect(await env.world.stat(attestationPath('e1'))).toBeDefined();
    },
  );
});

/** A cache hit's Settle input: `src` ran and settled, `hit` was admitted after it with the same inputs. */
async function cachedSettleInput(e: PhaseEnv): Promise<SettleCachedInput> {
  const { settleInput } = await upToSettle(e, 'src');
  await inActivity(e.activities.settle, settleInput);
  const admitted = await admit(e, 'hit');
  if (!admitted.cache_hit) throw new Error('expected the second admission to hit the cache');
  const { request, workflow } = settleInput;
  return {
    execution_id: 'hit',
    request,
    admitted,
    record: admitted.cache_hit,
    workflow,
    started_at: '2026-01-01T00:00:00.000Z',
  };
}

/** The steps of one clean cached Settle, in order. */
async function cachedSettleSteps(): Promise<string[]> {
  const e = await phaseEnv({ script });
  try {
    const input = await cachedSettleInput(e);
    const log: string[] = [];
    await inActivity(createActivities(crashingDeps(e.deps, Infinity, 'before', log)).settleCached, input);
    return log;
  } finally {
    await e.cleanup();
  }
}

const cachedSteps = await cachedSettleSteps();

describe('a cached Settle retry completes what the crashed attempt left', () => {
  it('lands the outputs, the index and both receipts, then attests', () => {
    expect(cachedSteps.filter((s) => s === 'bind')).toHaveLength(6);
  });

  const cases = (['before', 'after'] as const).flatMap((when) =>
    cachedSteps.map((name, i) => [i + 1, name, when] as const),
  );
  it.each(cases)(
    'crash at step %i (%s), %s it: the retry lands the same receipt, charges nothing',
    async (k, _n, when) => {
      env = await phaseEnv({ script });
      const input = await cachedSettleInput(env);
      const spent = (await env.plans.getPlan(PLAN)).spent_micro;
      const crashing = crashingDeps(env.deps, k, when, []);
      await expect(inActivity(createActivities(crashing).settleCached, input)).rejects.toMatchObject({
        type: 'ERR_INTERNAL',
      });
      await crashing.settled();

      const envelope = await inActivity(env.activities.settleCached, input);
      expect(await inActivity(env.activities.settleCached, input)).toEqual(envelope);
      expect(envelope.meta).toMatchObject({ cache_hit: true, cost_micro: 0 });
      expect(envelope.outputs).toHaveLength(2);
      expect((await env.plans.getPlan(PLAN)).spent_micro).toBe(spent);
      expect(await env.world.stat(attestationPath('hit'))).toBeDefined();
    },
  );
});
