// The one walk over a run's history events that `explain`, `lineage` and `verify` share: the start input, which
// activity types were scheduled, and the last completed result of each type. Pure, so recorded histories test it.
// A phase is an ordinary activity (ActivityTaskScheduled … ActivityTaskCompleted) or, since the local-phases patch
// (workflows/run-processor.ts, ADR 0021), a local activity: one `core_local_activity` marker holding the activity
// type and its result. Both count alike; the committed histories hold runs of both kinds.
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

export interface ActivityOutcomes {
  /** Every activity type the workflow scheduled or ran as a local activity, completed or not. */
  readonly scheduled: ReadonlySet<string>;
  /**
   * The result payload of the last completion of each activity type. A phase completes once per run, except Reserve
   * when its local try found an identical run in flight (`in_flight`) and the ordinary activity then waited for it
   * (ADR 0023): the later result is the phase's.
   */
  readonly results: ReadonlyMap<string, Payload | undefined>;
}

export function decodePayload<T = unknown>(payload: Payload | null | undefined): T | undefined {
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
}

/** The decoded first argument the workflow was started with. */
export function startInput(events: readonly HistoryEvent[]): unknown {
  return decodePayload(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
}

const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** The activity type a local-activity marker records (its `data` payload), or undefined for any other event. */
function localActivityType(event: HistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const type = decodePayload<{ activity_type?: unknown }>(marker.details?.['data']?.payloads?.[0])?.activity_type;
  return typeof type === 'string' ? type : undefined;
}

export function activityOutcomes(events: readonly HistoryEvent[]): ActivityOutcomes {
  const typeOf = new Map<string, string>(); // scheduled event id → activity type
  const ranLocally = new Set<string>();
  const results = new Map<string, Payload | undefined>();
  const complete = (type: string, result: Payload | null | undefined) => {
    results.set(type, result ?? undefined);
  };
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(event.eventId ?? ''), scheduled.activityType?.name ?? '');
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const type = typeOf.get(String(completed.scheduledEventId ?? ''));
      if (type) complete(type, completed.result?.payloads?.[0]);
    }
    const local = localActivityType(event);
    if (local === undefined) continue;
    ranLocally.add(local);
    // A failed local activity's marker carries the failure instead of a result.
    if (!event.markerRecordedEventAttributes?.failure)
      complete(local, event.markerRecordedEventAttributes?.details?.['result']?.payloads?.[0]);
  }
  return { scheduled: new Set([...typeOf.values(), ...ranLocally]), results };
}
