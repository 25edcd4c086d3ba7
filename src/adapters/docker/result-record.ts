// result.json: the outcome of one execution, written before its container is removed. A retried attempt
// that finds it returns it as is instead of running the processor a second time.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { WorldloopError } from '../../contracts/errors';
import { EnvelopeSchema } from '../../contracts/schemas';
import { writeFileAtomic } from '../../write-file-atomic';

/**
 * How a container's run ended: it exited by itself, was killed at its deadline or on a cancel the workflow
 * asked for, never started, or was killed for writing more than its output limits allow.
 */
export const TERMINATIONS = ['exited', 'timeout', 'cancelled', 'start_failed', 'output_limit'] as const;
export type Termination = (typeof TERMINATIONS)[number];

export const ResultRecordSchema = z.strictObject({
  result_schema: z.literal('worldloop.docker-result/v1'),
  execution_id: z.string(),
  container_id: z.string().nullable(),
  termination: z.enum(TERMINATIONS),
  exit_code: z.number().int().nullable(),
  started_at: z.string(),
  finished_at: z.string(),
  stderr_tail: z.string(),
  envelope: EnvelopeSchema,
});
export type ResultRecord = z.infer<typeof ResultRecordSchema>;

/** The record of a run that never got a container (cancelled before start). */
export function unstartedRecord(envelope: ResultRecord['envelope'], at: string): ResultRecord {
  return {
    result_schema: 'worldloop.docker-result/v1',
    execution_id: envelope.execution_id,
    container_id: null,
    termination: 'cancelled',
    exit_code: null,
    started_at: at,
    finished_at: at,
    stderr_tail: '',
    envelope,
  };
}

export async function writeResultRecord(path: string, record: ResultRecord): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(record), { mode: 0o644 });
}

/** The recorded outcome, undefined when there is none; a file that is not one is refused, never overwritten. */
export async function readResultRecord(path: string, executionId: string): Promise<ResultRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed;
  try {
    parsed = ResultRecordSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  // Refuse rather than run again: a second run of a finished execution is exactly what this file prevents.
  if (!parsed?.success || parsed.data.execution_id !== executionId) {
    throw new WorldloopError(
      'ERR_INVARIANT',
      `${path} exists but is not a result record of execution ${executionId}; inspect it before retrying`,
    );
  }
  return parsed.data;
}
