// Reserve: single-flight for identical deterministic runs, then the budget reservation and the write
// lease — each atomic and idempotent per execution_id (docs/architecture.md §2). A later failure is compensated by
// release.ts, so nothing taken here can leak.
import { Context } from '@temporalio/activity';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActivityDeps } from './deps';
import { lookupCache } from './cache';
import type { ReserveInput, ReserveResult } from './types';

const FLIGHT_POLL_MS = 100;

interface FlightClaim {
  execution_id: string;
}

const flightKey = (cacheKey: string, generation: number) =>
  `flights/${cacheKey}/${String(generation).padStart(6, '0')}`;

/**
 * Identical concurrent runs share one execution: the first claims the cache key; the others wait for its
 * cache record. If the owner ends without one (it failed), the next claims a new generation and runs.
 * Asked not to wait (the local Reserve, ADR 0023), it answers `in_flight` instead of waiting; the workflow then
 * runs the ordinary, heartbeating activity, which starts this scan again.
 */
async function singleFlight(deps: ActivityDeps, input: ReserveInput): Promise<ReserveResult | undefined> {
  const { execution_id, admitted } = input;
  // Claims are append-only, so each pass resumes the scan where the previous one stopped.
  let generation = 0;
  let last: FlightClaim | undefined;
  for (;;) {
    for (;;) {
      const claim = (await deps.world.getJson(flightKey(admitted.cache_key, generation))) as FlightClaim | undefined;
      if (!claim) break;
      last = claim;
      generation += 1;
    }
    if (last?.execution_id === execution_id) return undefined; // our own claim, seen again on a retry
    const record = await lookupCache(deps.world, admitted.cache_key);
    if (record) return { status: 'cache_hit', record };
    if (last && (await deps.flights.isRunning(last.execution_id))) {
      if (input.wait === false) return { status: 'in_flight', owner: last.execution_id };
      Context.current().heartbeat({ waiting_for: last.execution_id });
      await sleep(FLIGHT_POLL_MS);
      continue;
    }
    const outcome = await deps.world.putJsonIfAbsent(flightKey(admitted.cache_key, generation), { execution_id });
    if (outcome === 'created') return undefined;
  }
}

export function makeReserve(deps: ActivityDeps) {
  return async function reserve(input: ReserveInput): Promise<ReserveResult> {
    const { execution_id, plan, admitted } = input;
    if (admitted.use_cache) {
      const shared = await singleFlight(deps, input);
      if (shared) return shared;
    }
    await deps.plans.reserve(plan, execution_id, admitted.reserve_micro);
    try {
      await deps.leases.acquire(execution_id, [admitted.write_prefix]);
    } catch (err) {
      await deps.plans.release(plan, execution_id);
      throw err;
    }
    return { status: 'reserved' };
  };
}
