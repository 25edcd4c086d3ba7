// The client role (as temporalio/samples-typescript keep client.ts apart from worker.ts): start a run, read
// its envelope back, describe it, list runs by worldloop's typed search attributes. The CLI, the
// integration tests and the benchmarks all go through this module — never through the CLI's internals.
import {
  CancelledFailure,
  Client,
  TerminatedFailure,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { v7 as uuidv7 } from 'uuid';
import type { PhaseState } from '../../activities';
import { WorldloopError } from '../contracts/errors';
import { errorEnvelope, unstartedMeta } from '../contracts/envelope';
import { ErrorEnvelopeSchema, type Envelope, type RunRequest } from '../contracts/schemas';
import { SA_CACHE_HIT, SA_MODE, SA_PLAN, SA_PROCESSOR_REF, SA_STATUS } from '../contracts/search-attributes';
import { executionIdOf, runWorkflowId } from '../contracts/workflow-id';
import { phaseQuery, runProcessor } from '../../workflows';
import type { TemporalConnection } from './connection';

/** A Temporal client on an open connection (the caller closes the connection). */
export function runClient(temporal: TemporalConnection): Client {
  return new Client({ connection: temporal.connection, namespace: temporal.namespace });
}

export interface StartedRun {
  readonly execution_id: string;
  readonly handle: WorkflowHandleWithFirstExecutionRunId<typeof runProcessor>;
}

/**
 * Proposes a run: creates the execution id once (a UUIDv7, time-ordered) and starts `runProcessor` under
 * the workflow id `run/<execution_id>`. The request must already be valid (RunRequestSchema).
 */
export async function startRun(
  client: Client,
  opts: { taskQueue: string; request: RunRequest; executionId?: string; eager?: boolean },
): Promise<StartedRun> {
  const execution_id = opts.executionId ?? uuidv7();
  const handle = await client.workflow.start(runProcessor, {
    taskQueue: opts.taskQueue,
    workflowId: runWorkflowId(execution_id),
    args: [{ execution_id, request: opts.request }],
    // Eager start (only with a client on a worker's own native connection, RunningWorker.client; the SDK refuses
    // it on any other): the server may hand the first workflow task to that worker in its reply, not a poll.
    ...(opts.eager ? { requestEagerStart: true } : {}),
  });
  return { execution_id, handle };
}

/** The handle of an existing run, by execution id. */
export function runHandle(client: Client, executionId: string): WorkflowHandle<typeof runProcessor> {
  return client.workflow.getHandle<typeof runProcessor>(runWorkflowId(executionId));
}

/** Describes a run; an unknown execution id is ERR_NOT_FOUND, not a Temporal exception. */
export async function describeRun(client: Client, executionId: string): Promise<WorkflowExecutionDescription> {
  try {
    return await runHandle(client, executionId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new WorldloopError('ERR_NOT_FOUND', `no run with execution id ${executionId}`);
    throw err;
  }
}

/** The run's phase state, or undefined while no worker has run its first workflow task yet. */
export async function queryPhase(handle: WorkflowHandle): Promise<PhaseState | undefined> {
  try {
    return await handle.query(phaseQuery);
  } catch {
    return undefined;
  }
}

/**
 * The envelope of a finished run: the workflow result, or the error envelope the workflow put in its
 * failure details. A run stopped from outside (cancel, terminate) or broken before it could build an
 * envelope still gets one, with ERR_CANCELLED or ERR_INTERNAL.
 */
export async function runEnvelope(handle: WorkflowHandle): Promise<Envelope> {
  try {
    return (await handle.result()) as Envelope;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause as { details?: unknown[]; message?: string } | undefined;
    const parsed = ErrorEnvelopeSchema.safeParse(cause?.details?.[0]);
    if (parsed.success) return parsed.data;
    const stopped = err.cause instanceof CancelledFailure || err.cause instanceof TerminatedFailure;
    return errorEnvelope(
      executionIdOf(handle.workflowId) ?? handle.workflowId,
      stopped ? 'ERR_CANCELLED' : 'ERR_INTERNAL',
      cause?.message ?? err.message,
      unstartedMeta({ adapter: 'local', mode: 'mock' }),
    );
  }
}

/** True when some worker polls the task queue's workflow tasks (Temporal may list a dead one for minutes). */
export async function hasWorkflowPollers(temporal: TemporalConnection, taskQueue: string): Promise<boolean> {
  const response = await temporal.connection.workflowService.describeTaskQueue({
    namespace: temporal.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (response.pollers ?? []).length > 0;
}

/** Which runs to list; every field is matched exactly against a worldloop search attribute. */
export interface RunFilter {
  readonly processor_ref?: string;
  readonly mode?: string;
  readonly plan?: string;
  readonly status?: string;
  /** Only runs that started before this instant. */
  readonly startedBefore?: Date;
}

// Visibility queries are SQL-like text; rather than escape, accept only the characters our values use.
const QUERY_VALUE = /^[A-Za-z0-9_@/:.+-]{1,200}$/;

/** The visibility query for a filter: pure, so its quoting rules are unit-tested. */
export function runsQuery(filter: RunFilter = {}): string {
  const clauses = [`WorkflowType = 'runProcessor'`];
  const fields: [string, string | undefined][] = [
    [SA_PROCESSOR_REF.name, filter.processor_ref],
    [SA_MODE.name, filter.mode],
    [SA_PLAN.name, filter.plan],
    [SA_STATUS.name, filter.status],
  ];
  for (const [name, value] of fields) {
    if (value === undefined) continue;
    if (!QUERY_VALUE.test(value))
      throw new WorldloopError(
        'ERR_USAGE',
        `${name} filter ${JSON.stringify(value.slice(0, 64))} has other characters than [A-Za-z0-9_@/:.+-]`,
      );
    clauses.push(`${name} = '${value}'`);
  }
  // An ISO 8601 instant from a Date: digits, '-', ':', '.', 'T' and 'Z' only, so it needs no escaping.
  if (filter.startedBefore) clauses.push(`StartTime < '${filter.startedBefore.toISOString()}'`);
  return clauses.join(' AND ');
}

export interface RunSummary {
  readonly execution_id: string;
  /** Temporal's execution status name (RUNNING, COMPLETED, FAILED, …). */
  readonly status: string;
  readonly processor_ref: string;
  readonly mode: string;
  /** null while the run has not decided (Admit sets it). */
  readonly cache_hit: boolean | null;
  readonly started: Date;
}

/**
 * At most `limit` runs, in the visibility store's order: runs still open first, then the closed ones by close time,
 * most recent first. Sort by `started` where the start order matters.
 */
export async function listRuns(client: Client, opts: { limit: number; filter?: RunFilter }): Promise<RunSummary[]> {
  const rows: RunSummary[] = [];
  for await (const wf of client.workflow.list({ query: runsQuery(opts.filter) })) {
    const sa = wf.typedSearchAttributes;
    rows.push({
      execution_id: executionIdOf(wf.workflowId) ?? wf.workflowId,
      status: wf.status.name,
      processor_ref: sa.get(SA_PROCESSOR_REF) ?? '',
      mode: sa.get(SA_MODE) ?? '',
      cache_hit: sa.get(SA_CACHE_HIT) ?? null,
      started: wf.startTime,
    });
    if (rows.length >= opts.limit) break;
  }
  return rows;
}
