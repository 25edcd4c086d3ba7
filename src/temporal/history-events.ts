// The one walk over a run's history events that `explain`, `lineage` and `verify` share: the start input, which
// activity types were scheduled, and the first completed result of each type. Pure, so recorded histories test it.
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

export interface ActivityOutcomes {
  /** Every activity type the workflow scheduled, completed or not. */
  readonly scheduled: ReadonlySet<string>;
  /** The result payload of the first completion of each activity type (a phase completes once per run). */
  readonly results: ReadonlyMap<string, Payload | undefined>;
}

export function decodePayload<T = unknown>(payload: Payload | null | undefined): T | undefined {
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
}

/** The decoded first argument the workflow was started with. */
export function startInput(events: readonly HistoryEvent[]): unknown {
  return decodePayload(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
}

export function activityOutcomes(events: readonly HistoryEvent[]): ActivityOutcomes {
  const typeOf = new Map<string, string>(); // scheduled event id → activity type
  const results = new Map<string, Payload | undefined>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(event.eventId ?? ''), scheduled.activityType?.name ?? '');
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const type = typeOf.get(String(completed.scheduledEventId ?? ''));
      if (type && !results.has(type)) results.set(type, completed.result?.payloads?.[0] ?? undefined);
    }
  }
  return { scheduled: new Set(typeOf.values()), results };
}
