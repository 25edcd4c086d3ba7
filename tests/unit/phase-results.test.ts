// Which phases a run's history shows and what they returned (src/temporal/phase-results.ts), on the committed
// recorded histories: runs since the local-phases patch record Admit, the cached Settle and Re-check as local
// activity markers; older runs as ordinary activities. Both must name every phase the run went through.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AdmitResult, ReserveResult } from '../../activities/types';
import { REPO_ROOT } from '../../src/config';
import { phaseResult, phaseResults, type HistoryEvent } from '../../src/temporal/phase-results';

const recorded = (file: string): HistoryEvent[] =>
  historyFromJSON(JSON.parse(readFileSync(join(REPO_ROOT, 'tests/replay/histories', file), 'utf8'))).events ?? [];

const markers = (events: HistoryEvent[]) =>
  events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;

describe('phaseResults', () => {
  it('a miss since the patch: admit and recheck as markers, reserve, execute and settle as activities', () => {
    const events = recorded('text-stats-success.json');
    expect(markers(events)).toBe(2);
    const phases = phaseResults(events);
    expect([...phases.ran].sort()).toEqual(['admit', 'execute', 'recheck', 'reserve', 'settle']);
    expect(phaseResult<AdmitResult>(phases, 'admit')?.image_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(phaseResult<ReserveResult>(phases, 'reserve')?.status).toBe('reserved');
    expect(phases.results.has('recheck')).toBe(true);
    expect(phaseResult(phases, 'recheck')).toBeUndefined();
  });

  it('a cache hit since the patch: every phase is a marker with its result', () => {
    const events = recorded('text-stats-cache-hit.json');
    expect(events.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
    const phases = phaseResults(events);
    expect([...phases.ran].sort()).toEqual(['admit', 'recheck', 'settleCached']);
    expect(phaseResult<AdmitResult>(phases, 'admit')?.cache_hit?.execution_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(phaseResult<{ status: string }>(phases, 'settleCached')?.status).toBe('success');
  });

  it('the same phases from a cache hit recorded before the patch (ordinary activities)', () => {
    const events = recorded('text-stats-cache-hit.before-local-phases.json');
    expect(markers(events)).toBe(0);
    const phases = phaseResults(events);
    expect([...phases.ran].sort()).toEqual(['admit', 'recheck', 'settleCached']);
    expect(phaseResult<AdmitResult>(phases, 'admit')?.cache_hit?.execution_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a run refused in a local Admit ran admit but has no admit result', () => {
    const phases = phaseResults(recorded('text-stats-bad-inputs.json'));
    expect([...phases.ran]).toEqual(['admit']);
    expect(phases.results.has('admit')).toBe(false);
  });

  it('an empty history shows no phase', () => {
    expect(phaseResults([])).toEqual({ ran: new Set(), results: new Map() });
  });
});
