// Replay for users (docs/lanes.md, "replay"): recorded workflow histories — files, or recent runs fetched
// from the cluster — replayed against the workflow code of this checkout with Worker.runReplayHistories.
// A history that the current code would not reproduce is reported with its workflow id, run id and the
// event Temporal names, and the whole replay fails with ERR_REPLAY_NONDETERMINISM.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { HistoryAndWorkflowId } from '@temporalio/common';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { WorldloopError } from '../contracts/errors';
import { writeFileAtomic } from '../write-file-atomic';

export interface ReplaySource {
  readonly workflowId: string;
  readonly runId: string;
  /** Where it came from: a file name or `cluster`. */
  readonly origin: string;
  readonly history: unknown;
}

export interface ReplayOutcome {
  readonly workflowId: string;
  readonly runId: string;
  readonly origin: string;
  readonly ok: boolean;
  /** The failure as Temporal words it, and the event when it names one. */
  readonly error?: {
    readonly kind: string;
    readonly message: string;
    readonly eventId?: number;
    readonly eventType?: string;
  };
}

interface StartedAttributes {
  workflowId?: string;
  originalExecutionRunId?: string;
  firstExecutionRunId?: string;
}

/** The ids a history carries in its first event (WorkflowExecutionStarted). */
function idsOf(history: unknown, origin: string): { workflowId: string; runId: string } {
  const events = (history as { events?: unknown[] } | null)?.events;
  const first = Array.isArray(events) ? (events[0] as Record<string, unknown> | undefined) : undefined;
  const attrs = first?.workflowExecutionStartedEventAttributes as StartedAttributes | undefined;
  if (!attrs) {
    throw new WorldloopError(
      'ERR_REPLAY_HISTORY',
      `${origin}: not a Temporal history (no WorkflowExecutionStarted first event)`,
    );
  }
  return {
    workflowId: attrs.workflowId ?? origin.replace(/\.json$/, ''),
    runId: attrs.originalExecutionRunId ?? attrs.firstExecutionRunId ?? 'unknown',
  };
}

/** Every `*.json` history in `dir`, sorted by file name. */
export async function historiesFromDir(dir: string): Promise<ReplaySource[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    throw new WorldloopError(
      'ERR_REPLAY_HISTORY',
      `${dir}: cannot be listed (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (names.length === 0) throw new WorldloopError('ERR_REPLAY_HISTORY', `${dir}: holds no *.json history`);
  const sources: ReplaySource[] = [];
  for (const name of names) {
    let history: unknown;
    try {
      history = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch (error) {
      throw new WorldloopError('ERR_REPLAY_HISTORY', `${name}: not JSON (${(error as Error).message.slice(0, 120)})`);
    }
    sources.push({ ...idsOf(history, name), origin: name, history });
  }
  return sources;
}

/** The newest `last` closed or running executions matching a visibility query, with their histories. */
export async function historiesFromCluster(
  client: Client,
  query: string | undefined,
  last: number,
): Promise<ReplaySource[]> {
  const sources: ReplaySource[] = [];
  for await (const h of client.workflow.list({ query, pageSize: Math.min(last, 100) }).intoHistories()) {
    const history = JSON.parse(historyToJSON(h.history as History)) as unknown;
    sources.push({ ...idsOf(history, h.workflowId), origin: 'cluster', history });
    if (sources.length >= last) break;
  }
  return sources;
}

/** Writes each history as `<workflow id>.<run id>.json` (the `/` of `run/<id>` becomes `_`); returns the files. */
export async function exportHistories(sources: readonly ReplaySource[], dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const s of sources) {
    const file = `${s.workflowId.replace(/[^A-Za-z0-9._-]/g, '_')}.${s.runId}.json`;
    await writeFileAtomic(join(dir, file), `${JSON.stringify(s.history, null, 2)}\n`);
    files.push(file);
  }
  return files;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/**
 * The core of a replay failure: Temporal wraps the coded line ("[TMPRL1100] Nondeterminism error: … HistoryEvent(id: 5,
 * UpsertWorkflowSearchAttributes)") in a long debug dump; keep that line and the event it names.
 */
export function describeReplayFailure(message: string): { message: string; eventId?: number; eventType?: string } {
  const coded = /\[TMPRL\d+\][^"\n]*/.exec(message)?.[0] ?? message.split('\n')[0]!;
  const event =
    /HistoryEvent\(id: ?(\d+)(?:, ?([A-Za-z]+))?/.exec(message) ?? /event(?:[ _]?id)?[^0-9]{0,12}(\d+)/i.exec(message);
  return {
    message: coded.slice(0, 400),
    ...(event ? { eventId: Number(event[1]) } : {}),
    ...(event?.[2] ? { eventType: event[2] } : {}),
  };
}

/**
 * Replays every source against the workflows exported by `workflowsPath` (one bundle, one replay worker).
 * Never throws for a bad history: each gets its outcome.
 */
export async function replayHistories(
  sources: readonly ReplaySource[],
  workflowsPath: string,
): Promise<ReplayOutcome[]> {
  const bundle = await bundleWorkflowCode({ workflowsPath, logger: quiet });
  const byKey = new Map(sources.map((s) => [`${s.workflowId}\u0000${s.runId}`, s]));
  const input: HistoryAndWorkflowId[] = sources.map((s) => ({
    workflowId: s.workflowId,
    history: s.history as History,
  }));
  const outcomes: ReplayOutcome[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, input)) {
    const origin = byKey.get(`${r.workflowId}\u0000${r.runId}`)?.origin ?? 'unknown';
    if (!r.error) {
      outcomes.push({ workflowId: r.workflowId, runId: r.runId, origin, ok: true });
      continue;
    }
    outcomes.push({
      workflowId: r.workflowId,
      runId: r.runId,
      origin,
      ok: false,
      error: { kind: r.error.name, ...describeReplayFailure(r.error.message) },
    });
  }
  return outcomes;
}

/** ERR_REPLAY_NONDETERMINISM naming every failed workflow, run and event; nothing when all replayed. */
export function assertReplayed(outcomes: readonly ReplayOutcome[]): void {
  const bad = outcomes.filter((o) => !o.ok);
  if (bad.length === 0) return;
  throw new WorldloopError(
    'ERR_REPLAY_NONDETERMINISM',
    bad
      .map(
        (o) =>
          `workflow ${o.workflowId} run ${o.runId}${o.error?.eventId === undefined ? '' : ` event ${o.error.eventId}${o.error.eventType ? ` (${o.error.eventType})` : ''}`} [${o.origin}]: ${o.error?.message}`,
      )
      .join('; '),
  );
}
