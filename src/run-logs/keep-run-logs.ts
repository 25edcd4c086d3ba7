// Keeps a run's lifecycle lines as the execution artifact world://artifacts/execution/<id>/logs.jsonl
// and forwards them to the worker log with the run's context. Called by Execute once the adapter has an
// outcome (success or failure: a failed run's log is the one an operator wants), on every attempt.
// Exactly once: the world binding is first-writer-wins, and only the attempt that created it forwards.
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { join } from 'node:path';
import { WorldloopError } from '../contracts';
import { defaultRedactor } from '../log';
import type { WorldStore } from '../world';
import { STDERR_CAPTURE_FILE } from './capture';
import { MAX_BYTES, TAIL_OMISSION, selectLifecycleLines } from './lifecycle-lines';

export function runLogsPath(executionId: string): string {
  return `world://artifacts/execution/${executionId}/logs.jsonl`;
}

export interface RunLogContext {
  execution_id: string;
  processor_ref: string;
  adapter: string;
  mode: string;
}

export interface RunLogSource {
  /** The adapter's redacted stderr tail (always there, bounded). */
  stderr_tail: string;
  /** A file of the container's full stderr lifecycle lines, when the adapter captured one. */
  capture_file?: string;
}

export interface KeepRunLogsDeps {
  world: WorldStore;
  logger: Logger;
  /** The worker's redactor, applied to each line on this side of the boundary too. */
  redactLine(line: string): string;
}

/** How much of a capture file is read: generous next to the artifact's budget, bounded all the same. */
const MAX_CAPTURE_READ = 16 * MAX_BYTES;

async function readCapture(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(MAX_CAPTURE_READ);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const size = (await fh.stat()).size;
    const text = buf.subarray(0, bytesRead).toString('utf8');
    return size > bytesRead ? `${text}\n[… ${size - bytesRead} earlier bytes omitted]` : text;
  } finally {
    await fh.close();
  }
}

function withoutOmissionMarks(text: string): string {
  return text
    .split('\n')
    .filter((l) => !TAIL_OMISSION.test(l.trim()))
    .join('\n');
}

export type KeptRunLogs = { status: 'created' | 'kept_before' | 'empty'; lines: number; note: boolean };

export async function keepRunLogs(
  deps: KeepRunLogsDeps,
  run: RunLogContext,
  source: RunLogSource,
): Promise<KeptRunLogs> {
  // The capture saw the whole stream; the tail still helps when the capture's follower lagged at the end
  // (the engine's last lines), and duplicates are dropped by event. Only the capture's own marks count
  // as truncation then: the tail's "earlier bytes omitted" is about bytes the capture did see.
  const capture = await readCapture(source.capture_file);
  const tail = capture === undefined ? source.stderr_tail : withoutOmissionMarks(source.stderr_tail);
  const text = capture === undefined ? tail : `${capture}\n${tail}`;
  const selected = selectLifecycleLines(text, deps.redactLine);
  // A container that printed no lifecycle line (an image that is not built on the kit, a start failure)
  // leaves no artifact rather than an empty one: `worldloop logs` then says there is no log.
  if (selected.lines.length === 0 && selected.note === undefined) return { status: 'empty', lines: 0, note: false };
  const body = [...selected.lines, ...(selected.note ? [selected.note] : [])].map((l) => `${l}\n`).join('');
  const blob = await deps.world.putBlob(new TextEncoder().encode(body));
  let bound: 'created' | 'unchanged';
  try {
    bound = await deps.world.bind(runLogsPath(run.execution_id), {
      ...blob,
      mime: 'application/x-ndjson',
      execution_id: run.execution_id,
    });
  } catch (err) {
    // An earlier attempt kept (and forwarded) its own reading of the same run: that one stands.
    if (err instanceof WorldloopError && err.code === 'ERR_WORLD_CONFLICT')
      return { status: 'kept_before', lines: selected.lines.length, note: selected.note !== undefined };
    throw err;
  }
  if (bound === 'created') forward(deps.logger, run, selected.lines, selected.note);
  return {
    status: bound === 'created' ? 'created' : 'kept_before',
    lines: selected.lines.length,
    note: selected.note !== undefined,
  };
}

/** The fields the worker's child logger already carries, or that pino writes itself. */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'event', 'execution_id', 'processor_ref', 'mode', 'adapter']);

function forward(logger: Logger, run: RunLogContext, lines: string[], note: string | undefined): void {
  const log = logger.child({ ...run, source: 'processor' });
  for (const line of lines) {
    const record = JSON.parse(line) as Record<string, unknown>;
    const event = String(record.event);
    const detail = Object.fromEntries(Object.entries(record).filter(([k]) => !OWN_FIELDS.has(k)));
    const fields = { event, processor_time: record.time, ...detail };
    if (record.level === 'error') log.error(fields, event);
    else log.info(fields, event);
  }
  if (note) log.warn(JSON.parse(note) as Record<string, unknown>, 'processor log truncated');
}

/**
 * The hook Execute calls after every adapter outcome. Keeping logs must never fail a run: a store error
 * here is logged and the run goes on (the run's outputs are what the world promises, its logs are help).
 */
export async function keepExecutionLogs(
  deps: { world: WorldStore; logger: Logger },
  run: RunLogContext,
  outcome: { stderr_tail: string },
  workdir: string,
): Promise<KeptRunLogs | undefined> {
  try {
    return await keepRunLogs(
      { world: deps.world, logger: deps.logger, redactLine: (line) => defaultRedactor.redactLine(line) },
      run,
      { stderr_tail: outcome.stderr_tail, capture_file: join(workdir, STDERR_CAPTURE_FILE) },
    );
  } catch (err) {
    deps.logger.warn(
      {
        event: 'run_logs.error',
        execution_id: run.execution_id,
        err: err instanceof Error ? err.message : String(err),
      },
      'the processor log of this run was not kept',
    );
    return undefined;
  }
}
