// Which phases a run's history shows and what they returned (activityOutcomes, src/temporal/history-events.ts), on the committed
// recorded histories: runs since the local-phases patch record Admit, the cached Settle and Re-check as local
// activity markers; older runs as ordinary activities. Both must name every phase the run went through.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AdmitResult, ReserveResult } from '../../activities/types';
import { REPO_ROOT } from '../../src/config';
import { activityOutcomes, decodePayload, type HistoryEvent } from '../../src/temporal/history-events';

const recorded = (file: string): HistoryEvent[] =>
  historyFromJSON(JSON.parse(readFileSync(join(REPO_ROOT, 'tests/replay/histories', file), 'utf8'))).events ?? [];

const markers = (events: HistoryEvent[]) =>
  events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;

describe('activityOutcomes', () => {
  it('a miss since the local-reserve patch: admit, reserve and recheck as markers, execute and settle as activities', () => {
    const events = recorded('text-stats-success.json');
    expect(markers(events)).toBe(3);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes).length).toBe(2);
    const phases = activityOutcomes(events);
    expect([...phases.scheduled].sort()).toEqual(['admit', 'execute', 'recheck', 'reserve', 'settle']);
    expect(decodePayload<ReserveResult>(phases.results.get('reserve'))?.status).toBe('reserved');
  });

  it('an identical run in flight: the local Reserve answered in_flight, the ordinary one waited; its result counts', () => {
    const events = recorded('text-stats-in-flight.json');
    expect(markers(events)).toBe(4);
    const phases = activityOutcomes(events);
    expect([...phases.scheduled].sort()).toEqual(['admit', 'recheck', 'reserve', 'settleCached']);
    const reserved = decodePayload<ReserveResult>(phases.results.get('reserve'));
    expect(reserved).toMatchObject({ status: 'cache_hit', record: { execution_id: expect.any(String) } });
  });

  it('a miss since the local-phases patch: admit and recheck as markers, reserve, execute and settle as activities', () => {
    const events = recorded('text-stats-success.before-local-reserve.json');
    expect(markers(events)).toBe(2);
    const phases = activityOutcomes(events);
    expect([...phases.scheduled].sort()).toEqual(['admit', 'execute', 'recheck', 'reserve', 'settle']);
    expect(decodePayload<AdmitResult>(phases.results.get('admit'))?.image_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(decodePayload<ReserveResult>(phases.results.get('reserve'))?.status).toBe('reserved');
    expect(phases.results.has('recheck')).toBe(true);
    expect(decodePayload(phases.results.get('recheck'))).toBeUndefined();
  });

  it('a cache hit since the patch: every phase is a marker with its result', () => {
    const events = recorded('text-stats-cache-hit.json');
    expect(events.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
    const phases = activityOutcomes(events);
    expect([...phases.scheduled].sort()).toEqual(['admit', 'recheck', 'settleCached']);
    expect(decodePayload<AdmitResult>(phases.results.get('admit'))?.cache_hit?.execution_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodePayload<{ status: string }>(phases.results.get('settleCached'))?.status).toBe('success');
  });

  it('the same phases from a cache hit recorded before the patch (ordinary activities)', () => {
    const events = recorded('text-stats-cache-hit.before-local-phases.json');
    expect(markers(events)).toBe(0);
    const phases = activityOutcomes(events);
    expect([...phases.scheduled].sort()).toEqual(['admit', 'recheck', 'settleCached']);
    expect(decodePayload<AdmitResult>(phases.results.get('admit'))?.cache_hit?.execution_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a run refused in a local Admit ran admit but has no admit result', () => {
    const phases = activityOutcomes(recorded('text-stats-bad-inputs.json'));
    expect([...phases.scheduled]).toEqual(['admit']);
    expect(phases.results.has('admit')).toBe(false);
  });

  it('an empty history shows no phase', () => {
    expect(activityOutcomes([])).toEqual({ scheduled: new Set(), results: new Map() });
  });
});
