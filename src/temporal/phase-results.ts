// Which phases a run's history shows and what each returned, whichever way the phase ran: an ordinary activity
// (ActivityTaskScheduled … ActivityTaskCompleted) or a local activity (one `core_local_activity` marker holding
// the activity type and its result). Runs since the local-phases patch (workflows/run-processor.ts) record
// Admit, the cache-hit Settle and Re-check as markers; older runs as activities. Pure, so it is unit-tested on
// the committed recorded histories of both kinds.
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface PhaseResults {
  /** Every activity type the run scheduled or ran locally, completed or not. */
  readonly ran: ReadonlySet<string>;
  /** The first completed result of each activity type (undefined for a phase that returns nothing). */
  readonly results: ReadonlyMap<string, Payload | undefined>;
}

function localActivityType(event: HistoryEvent): string | undefined {
  const data = event.markerRecordedEventAttributes?.details?.['data']?.payloads?.[0];
  if (!data) return undefined;
  const parsed = defaultPayloadConverter.fromPayload<{ activity_type?: unknown }>(data);
  return typeof parsed?.activity_type === 'string' ? parsed.activity_type : undefined;
}

export function phaseResults(events: readonly HistoryEvent[]): PhaseResults {
  const scheduled = new Map<string, string>(); // scheduled event id → activity type
  const ran = new Set<string>();
  const results = new Map<string, Payload | undefined>();
  const complete = (type: string, result: Payload | undefined) => {
    if (!results.has(type)) results.set(type, result);
  };
  for (const event of events) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) {
      scheduled.set(String(event.eventId), s.activityType.name);
      ran.add(s.activityType.name);
    }
    const c = event.activityTaskCompletedEventAttributes;
    const type = c ? scheduled.get(String(c.scheduledEventId)) : undefined;
    if (c && type) complete(type, c.result?.payloads?.[0] ?? undefined);
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) continue;
    const local = localActivityType(event);
    if (local === undefined) continue;
    ran.add(local);
    // A failed local activity's marker carries the failure instead of a result.
    if (!marker.failure) complete(local, marker.details?.['result']?.payloads?.[0] ?? undefined);
  }
  return { ran, results };
}

/** The decoded result of the first completed `type` phase, or undefined. */
export function phaseResult<T>(phases: PhaseResults, type: string): T | undefined {
  const payload = phases.results.get(type);
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
}
