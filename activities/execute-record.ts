// The durable record of Execute's outcome (issue 12 part 3, ADR 0012-durable-execute-record). A worker's
// workdir is scratch: once Execute has staged the outputs and written this record into the world store, the
// workdir goes. Every later attempt of Execute — on this worker or any other, with or without the workdir —
// reads the record first and returns what it says, so a completion lost during a server outage never starts
// a second container, and Settle (which reads only the world store) settles exactly what was recorded.
// Create-only: the first attempt to record wins, and a later one adopts its record.
import { z } from 'zod';
import { EnvelopeSchema, ErrorCodeSchema, WorldloopError, isErrorCode } from '../src/contracts';
import type { Adapter } from '../src/adapters/adapter';
import type { WorldStore } from '../src/world';
import type { ExecuteResult } from './types';

export const EXECUTE_RECORD_SCHEMA = 'worldloop.execute-record/v1';

/** The record's name in the world store's record space (beside `cache/<key>`). */
export const executeRecordName = (executionId: string): string => `executions/${executionId}`;

const StagingOutcomeSchema = z.discriminatedUnion('status', [
  z.strictObject({
    status: z.literal('staged'),
    manifest: z.strictObject({ blake3: z.string().regex(/^[0-9a-f]{64}$/), size_bytes: z.number().int().min(0) }),
    files: z.number().int().min(0),
    total_bytes: z.number().int().min(0),
  }),
  z.strictObject({ status: z.literal('refused'), code: ErrorCodeSchema, message: z.string() }),
]);

const ExecuteRecordSchema = z.strictObject({
  record_schema: z.literal(EXECUTE_RECORD_SCHEMA),
  execution_id: z.string(),
  envelope: EnvelopeSchema,
  exit_code: z.number().int().nullable(),
  started_at: z.string(),
  finished_at: z.string(),
  /** Absent exactly when the envelope is an error: nothing was staged. */
  staging: StagingOutcomeSchema.optional(),
});
export type ExecuteRecord = z.infer<typeof ExecuteRecordSchema>;

export type ExecuteFacts = Omit<ExecuteRecord, 'record_schema' | 'execution_id'>;

function parseRecord(raw: unknown, executionId: string): ExecuteRecord {
  const parsed = ExecuteRecordSchema.safeParse(raw);
  const ok =
    parsed.success &&
    parsed.data.execution_id === executionId &&
    (parsed.data.envelope.status === 'error') === (parsed.data.staging === undefined);
  // Refuse rather than run again: running the processor a second time is what this record prevents.
  if (!ok) {
    throw new WorldloopError(
      'ERR_INVARIANT',
      `the world store's record ${executeRecordName(executionId)} is not an Execute record of this execution; inspect it before retrying`,
    );
  }
  return parsed.data;
}

export async function readExecuteRecord(world: WorldStore, executionId: string): Promise<ExecuteRecord | undefined> {
  const raw = await world.getJson(executeRecordName(executionId));
  return raw === undefined ? undefined : parseRecord(raw, executionId);
}

/** Records the facts unless an earlier attempt did; returns the record that stands. */
export async function recordExecute(
  world: WorldStore,
  executionId: string,
  facts: ExecuteFacts,
): Promise<ExecuteRecord> {
  const record: ExecuteRecord = { record_schema: EXECUTE_RECORD_SCHEMA, execution_id: executionId, ...facts };
  const put = await world.putJsonIfAbsent(executeRecordName(executionId), record);
  if (put === 'created') return record;
  const standing = await readExecuteRecord(world, executionId);
  if (!standing) throw new WorldloopError('ERR_INVARIANT', `${executeRecordName(executionId)} exists but reads empty`);
  return standing;
}

/** What Execute returns for a record: its result, or the recorded failure thrown again with its code. */
export function resultOfRecord(record: ExecuteRecord): ExecuteResult {
  const { envelope, staging } = record;
  if (envelope.status === 'error' || !staging) {
    const error = envelope.status === 'error' ? envelope.error : { code: 'ERR_INVARIANT', message: 'no staging' };
    throw new WorldloopError(isErrorCode(error.code) ? error.code : 'ERR_PROCESSOR_FAILED', error.message);
  }
  return {
    envelope,
    exit_code: record.exit_code,
    started_at: record.started_at,
    finished_at: record.finished_at,
    staging,
  };
}

/**
 * How Execute runs the adapter so that an execution gets one container whatever worker its attempts land
 * on (ADR 0020-execution-container-lock): the finished container is kept until this record is written
 * (`keepContainer`), a new one is never created once the record exists (`recordedElsewhere`), and an attempt
 * that fails while another recorded the outcome returns that outcome instead of its own failure.
 */
export async function invokeOnce(
  world: WorldStore,
  executionId: string,
  invoke: (lock: { keepContainer: true; recordedElsewhere: () => Promise<boolean> }) => Promise<ExecuteResult>,
): Promise<ExecuteResult> {
  const recordedElsewhere = async () => (await readExecuteRecord(world, executionId)) !== undefined;
  try {
    return await invoke({ keepContainer: true, recordedElsewhere });
  } catch (err) {
    const recorded = await readExecuteRecord(world, executionId).catch(() => undefined);
    if (recorded) return resultOfRecord(recorded);
    throw err;
  }
}

/** Once the outcome is durable: the kept container goes (the adapter's lock is no longer needed). */
export async function releaseContainer(adapter: Adapter | undefined, executionId: string): Promise<void> {
  await adapter?.discard?.(executionId);
}
