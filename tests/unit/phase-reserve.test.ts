// Reserve, release and the cache path through the real activities: budget edges, leases, single-flight.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ReceiptSchema } from '../../src/contracts';
import { determinismPath } from '../../src/contracts/write-prefix';
import {
  PLAN,
  WORKFLOW,
  admit,
  failureCode,
  inActivity,
  phaseEnv,
  prefixOf,
  registryEntry,
  request,
  reserve,
  settle,
  upToSettleFrom,
  type PhaseEnv,
} from './phase-harness';

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const noCache = request({ cache: false });

describe('reserve: budget and leases', () => {
  it('holds exactly the bound when the budget equals it, and is idempotent on retry', async () => {
    env = await phaseEnv({ budget: 100 });
    const a = await admit(env, 'e1', noCache);
    expect(await reserve(env, 'e1', a, noCache)).toEqual({ status: 'reserved' });
    const after = await env.plans.getPlan(PLAN);
    expect(after).toMatchObject({ reserved_micro: 100, available_micro: 0 });
    expect(await reserve(env, 'e1', a, noCache)).toEqual({ status: 'reserved' });
    expect((await env.plans.getPlan(PLAN)).events).toBe(after.events);
    expect((await env.leases.activeLeases()).map((l) => l.paths)).toEqual([[prefixOf('e1')]]);
  });

  it('one micro-dollar short → ERR_BUDGET_EXCEEDED, and no lease is taken', async () => {
    env = await phaseEnv({ budget: 99 });
    const a = await admit(env, 'e1', noCache);
    expect(await failureCode(reserve(env, 'e1', a, noCache))).toBe('ERR_BUDGET_EXCEEDED');
    expect(await env.leases.activeLeases()).toEqual([]);
    expect(await env.plans.getPlan(PLAN)).toMatchObject({ reserved_micro: 0 });
  });

  it('a second run of the same budget is refused until the first gives its reservation back', async () => {
    env = await phaseEnv({ budget: 150 });
    await reserve(env, 'e1', await admit(env, 'e1', noCache), noCache);
    const a2 = await admit(env, 'e2', noCache);
    expect(await failureCode(reserve(env, 'e2', a2, noCache))).toBe('ERR_BUDGET_EXCEEDED');
    await inActivity(env.activities.release, { execution_id: 'e1', plan: PLAN });
    expect(await reserve(env, 'e2', a2, noCache)).toEqual({ status: 'reserved' });
  });

  it('an overlapping write prefix → ERR_LEASE_CONFLICT, and that run’s reservation is given back', async () => {
    env = await phaseEnv();
    await reserve(env, 'e1', await admit(env, 'e1', noCache), noCache);
    const overlapping = await inActivity(env.activities.admit, {
      execution_id: 'e2',
      request: noCache,
      write_prefix: `${prefixOf('e1')}sub/`,
    });
    expect(await failureCode(reserve(env, 'e2', overlapping, noCache))).toBe('ERR_LEASE_CONFLICT');
    const plan = await env.plans.getPlan(PLAN);
    expect(plan.reserved_micro).toBe(100);
    expect(plan.reservations.find((r) => r.execution_id === 'e2')?.status).toBe('released');
  });
});

describe('release (the compensation)', () => {
  it('gives back the reservation and the lease; twice is harmless; after a charge it changes nothing', async () => {
    env = await phaseEnv();
    await reserve(env, 'e1', await admit(env, 'e1', noCache), noCache);
    for (let i = 0; i < 2; i++) await inActivity(env.activities.release, { execution_id: 'e1', plan: PLAN });
    expect(await env.plans.getPlan(PLAN)).toMatchObject({ reserved_micro: 0, spent_micro: 0, available_micro: 1000 });
    expect(await env.leases.activeLeases()).toEqual([]);

    await settle(env, 'e2', noCache);
    const charged = await env.plans.getPlan(PLAN);
    await inActivity(env.activities.release, { execution_id: 'e2', plan: PLAN });
    expect(await env.plans.getPlan(PLAN)).toEqual(charged);
  });
});

describe('reserve: single-flight of identical deterministic runs', () => {
  it('a second identical run waits for the running first and then shares its result (cache_hit)', async () => {
    env = await phaseEnv();
    const a1 = await admit(env, 'e1');
    expect(await reserve(env, 'e1', a1)).toEqual({ status: 'reserved' });
    env.running.add('e1');
    const a2 = await admit(env, 'e2');
    let settled = false;
    const waiting = reserve(env, 'e2', a2).then((r) => {
      settled = true;
      return r;
    });
    await sleep(400);
    expect(settled).toBe(false); // still waiting for e1
    const { settleInput } = await upToSettleFrom(env, 'e1', a1);
    await inActivity(env.activities.settle, settleInput);
    const shared = await waiting;
    expect(shared).toMatchObject({ status: 'cache_hit', record: { execution_id: 'e1' } });
    // The waiter reserved nothing.
    expect((await env.plans.getPlan(PLAN)).reservations.map((r) => r.execution_id)).toEqual(['e1']);
  });

  it('asked not to wait (the local Reserve, ADR 0023), it answers in_flight and takes nothing', async () => {
    env = await phaseEnv();
    const a1 = await admit(env, 'e1');
    await reserve(env, 'e1', a1);
    env.running.add('e1');
    const a2 = await admit(env, 'e2');
    const before = await env.plans.getPlan(PLAN);
    const tried = await inActivity(env.activities.reserve, {
      execution_id: 'e2',
      plan: PLAN,
      admitted: a2,
      wait: false,
    });
    expect(tried).toEqual({ status: 'in_flight', owner: 'e1' });
    expect((await env.plans.getPlan(PLAN)).events).toBe(before.events);
    expect((await env.leases.activeLeases()).map((l) => l.execution_id)).toEqual(['e1']);
    expect(await env.world.getJson(`flights/${a1.cache_key}/000001`)).toBeUndefined();
    // Not waiting changes nothing else: with no identical run in flight it reserves as the ordinary activity does.
    env.running.delete('e1');
    await inActivity(env.activities.release, { execution_id: 'e1', plan: PLAN });
    expect(
      await inActivity(env.activities.reserve, { execution_id: 'e2', plan: PLAN, admitted: a2, wait: false }),
    ).toEqual({ status: 'reserved' });
  });

  it('if the owner ended without a result, the next run claims a new generation and runs', async () => {
    env = await phaseEnv();
    await reserve(env, 'e1', await admit(env, 'e1'));
    await inActivity(env.activities.release, { execution_id: 'e1', plan: PLAN }); // e1 failed; not running
    expect(await reserve(env, 'e2', await admit(env, 'e2'))).toEqual({ status: 'reserved' });
    expect(await env.world.getJson(`flights/${(await admit(env, 'x')).cache_key}/000001`)).toEqual({
      execution_id: 'e2',
    });
  });

  it('a retried Reserve of the claim owner sees its own claim and keeps its reservation', async () => {
    env = await phaseEnv();
    const a1 = await admit(env, 'e1');
    await reserve(env, 'e1', a1);
    const events = (await env.plans.getPlan(PLAN)).events;
    expect(await reserve(env, 'e1', a1)).toEqual({ status: 'reserved' });
    expect((await env.plans.getPlan(PLAN)).events).toBe(events);
  });

  it('with cache: false two identical runs both reserve (no single-flight)', async () => {
    env = await phaseEnv();
    env.running.add('e1');
    await reserve(env, 'e1', await admit(env, 'e1', noCache), noCache);
    expect(await reserve(env, 'e2', await admit(env, 'e2', noCache), noCache)).toEqual({ status: 'reserved' });
  });
});

describe('settleCached: a hit lands the cached outputs under the new prefix at zero cost', () => {
  it('re-roots the outputs, writes a hit receipt naming the source, charges nothing; a retry returns the same', async () => {
    env = await phaseEnv({ entry: registryEntry() });
    await settle(env, 'e1');
    const before = await env.plans.getPlan(PLAN);
    const a2 = await admit(env, 'e2');
    const record = a2.cache_hit!;
    const input = {
      execution_id: 'e2',
      request: request(),
      admitted: a2,
      record,
      workflow: WORKFLOW,
      started_at: '2026-01-01T00:00:00.000Z',
    };
    const envelope = await inActivity(env.activities.settleCached, input);
    expect(envelope.outputs).toEqual([`${prefixOf('e2')}outputs/result.txt`]);
    expect(envelope.meta).toMatchObject({ cache_hit: true, cost_micro: 0 });
    expect(await env.world.readBytes(envelope.outputs[0]!)).toEqual(
      await env.world.readBytes(`${prefixOf('e1')}outputs/result.txt`),
    );
    const receipt = ReceiptSchema.parse(
      JSON.parse(new TextDecoder().decode(await env.world.readBytes(determinismPath('e2')))),
    );
    expect(receipt.cache).toMatchObject({ hit: true, source_execution_id: 'e1' });
    expect(await env.plans.getPlan(PLAN)).toEqual(before);
    expect(await inActivity(env.activities.settleCached, input)).toEqual(envelope);
  });
});
