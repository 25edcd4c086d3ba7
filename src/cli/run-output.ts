// What `worldloop run` prints, whichever way the run went (the resident worker's socket or a Temporal client).
import { ERROR_CATALOGUE } from '../contracts/errors';
import { MICRO_PER_USD } from '../contracts/money';
import type { Envelope } from '../contracts/schemas';
import { EXIT_OK, exitCodeFor, printJson } from './output';
import type { RunOptions } from './run-draft';

export interface RunCommandOptions extends RunOptions {
  /** Run a worker in this process for this run, whoever else polls the task queue. */
  embeddedWorker?: boolean;
}

export interface StartedRunInfo {
  readonly execution_id: string;
  readonly workflow_id: string;
  readonly ui: string;
}

/** The run has started: a detached run prints its ids and is done; otherwise a line on stderr names it. */
export function printStarted(started: StartedRunInfo, opts: RunCommandOptions): void {
  const { execution_id, workflow_id, ui } = started;
  if (opts.detach) {
    if (opts.json) printJson({ execution_id, workflow_id, ui });
    else process.stdout.write(`started ${execution_id}\n  history  ${ui}\n  show     worldloop show ${execution_id}\n`);
  } else if (!opts.json) process.stderr.write(`run ${execution_id}  ${ui}\n`);
}

function printEnvelopeHuman(envelope: Envelope, link: string): void {
  if (envelope.status === 'success') {
    const lines = [
      `✓ ${envelope.execution_id} succeeded${envelope.meta.cache_hit ? ' (cache hit)' : ''} in ${envelope.meta.duration_ms} ms, cost $${(envelope.meta.cost_micro / MICRO_PER_USD).toFixed(6)}`,
      ...envelope.outputs.map((o) => `  output   ${o}`),
      `  index    ${envelope.index_path}`,
      `  receipt  ${envelope.index_path.replace(/outputs\.json$/, 'receipt.json')}`,
      `  image    ${envelope.meta.image_digest}`,
      `  history  ${link}`,
      `  show     worldloop show ${envelope.execution_id}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    // The same code + explanation + action as every other coded failure (src/cli/output.ts).
    const spec = ERROR_CATALOGUE[envelope.error.code];
    process.stderr.write(
      `✗ ${envelope.execution_id} failed: ${envelope.error.code}: ${envelope.error.message}\n  why: ${spec.explanation}\n  ${spec.action}\n  history  ${link}\n`,
    );
  }
}

/** Prints the envelope (JSON, or for people) and returns the exit code; `logFile` is named when a run failed. */
export function reportEnvelope(envelope: Envelope, link: string, opts: RunCommandOptions, logFile?: string): number {
  if (opts.json) printJson(envelope);
  else {
    printEnvelopeHuman(envelope, link);
    if (logFile && envelope.status === 'error') process.stderr.write(`  log      ${logFile}\n`);
  }
  return envelope.status === 'success' ? EXIT_OK : exitCodeFor(envelope.error.code);
}
