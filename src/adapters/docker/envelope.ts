// The heart of the local adapter, kept pure: from what is known once a container has stopped (how it
// ended, its exit code, the OOM flag, the stderr tail, what outputs.json and the processor's receipt say)
// to the canonical envelope (docs/architecture.md §6). No Docker, no files: unit-tested branch by branch.
import { errorEnvelope } from '../../contracts/envelope';
import { assertNever, isErrorCode, type ErrorCode } from '../../contracts/errors';
import { OutputsIndexSchema, type Envelope, type EnvelopeMeta } from '../../contracts/schemas';
import type { Termination } from './result-record';
import { firstIssue } from '../../contracts/zod-issue';

/** What reading a processor file gave: its text, nothing (absent), or why it could not be read. */
export type ProcessorFileRead =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly reason: string };

export interface TerminationFacts {
  readonly execution_id: string;
  readonly write_prefix: string;
  readonly container: string;
  readonly timeout_s: number;
  readonly memory_mb: number;
  readonly termination: Termination;
  readonly exit_code: number | null;
  readonly oom_killed: boolean;
  /** Already redacted. */
  readonly stderr_tail: string;
  /** Why the container did not start, or which output limit it passed; already redacted. */
  readonly detail: string;
  /** The outputs index the processor wrote (read only for a clean exit). */
  readonly outputs_index: ProcessorFileRead;
  readonly meta: EnvelopeMeta;
}

/** The processor's own receipt claims its cost; anything but a non-negative safe integer costs nothing here. */
export function costFromReceipt(receipt: ProcessorFileRead): number {
  if (receipt.kind !== 'text') return 0;
  try {
    const cost = (JSON.parse(receipt.text) as { cost_micro?: unknown } | null)?.cost_micro;
    return typeof cost === 'number' && Number.isSafeInteger(cost) && cost >= 0 ? cost : 0;
  } catch {
    // A malformed processor receipt costs nothing here; Settle reports it.
    return 0;
  }
}

// Codes the processor kit reports in its closing `execution.fail` line for failures that are the processor's
// own business (src/processor-kit/run-processor.ts); any other code there is not taken on its word.
const PROCESSOR_CODES = new Set<ErrorCode>([
  'ERR_PROVIDER_AUTH',
  'ERR_PROVIDER_RATE_LIMITED',
  'ERR_PROVIDER_UNAVAILABLE',
  'ERR_PROVIDER_REJECTED',
  'ERR_INPUTS',
  'ERR_USAGE',
  'ERR_MODE_INVALID',
  'ERR_MISSING_SECRET',
  'ERR_CONFIG_INVALID',
  'ERR_OUTPUT_INVALID',
  'ERR_OUTPUT_DUPLICATE',
]);

/** The code of the kit's last `execution.fail` line in the stderr tail, when it is one it may report. */
export function reportedFailureCode(stderrTail: string): ErrorCode | undefined {
  const lines = stderrTail.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const record = JSON.parse(lines[i]!) as { event?: unknown; code?: unknown } | null;
      if (record?.event !== 'execution.fail') continue;
      return isErrorCode(record.code) && PROCESSOR_CODES.has(record.code) ? record.code : undefined;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** The run's own secret values first (longest first, so one value containing another goes whole), then `redact`. */
export function redactRunSecrets(
  text: string,
  secrets: Record<string, string>,
  redact?: (s: string) => string,
): string {
  let out = text;
  const values = Object.values(secrets)
    .filter((v) => v.length > 0)
    .sort((x, y) => y.length - x.length);
  for (const v of values) out = out.split(v).join('[REDACTED]');
  return redact ? redact(out) : out;
}

/**
 * A container killed with 137 after running at least its timeout was killed at its deadline — by another
 * attempt, or one that died before recording it — not a processor that chose to exit 137.
 */
export function ranPastDeadline(
  state: { ExitCode: number; OOMKilled: boolean; StartedAt: string; FinishedAt: string },
  timeoutS: number,
): boolean {
  const started = Date.parse(state.StartedAt);
  const finished = Date.parse(state.FinishedAt);
  return (
    state.ExitCode === 137 &&
    !state.OOMKilled &&
    Number.isFinite(started) &&
    Number.isFinite(finished) &&
    finished - started >= timeoutS * 1000
  );
}

export function envelopeFor(f: TerminationFacts): Envelope {
  const tailSuffix = f.stderr_tail ? `; stderr tail:\n${f.stderr_tail}` : '';
  const error = (code: ErrorCode, message: string): Envelope => errorEnvelope(f.execution_id, code, message, f.meta);
  switch (f.termination) {
    case 'timeout':
      return error(
        'ERR_TIMEOUT',
        `processor did not finish within ${f.timeout_s} s; container ${f.container} was killed and removed${tailSuffix}`,
      );
    case 'cancelled':
      return error('ERR_CANCELLED', `run cancelled; container ${f.container} was killed and removed${tailSuffix}`);
    case 'start_failed':
      return error('ERR_PROCESSOR_FAILED', `processor container did not start: ${f.detail}${tailSuffix}`);
    case 'output_limit':
      return error(
        'ERR_OUTPUT_TOO_LARGE',
        `processor wrote too much under /work/out (${f.detail}); container ${f.container} was killed and removed${tailSuffix}`,
      );
    case 'exited':
      break;
    default:
      return assertNever(f.termination);
  }
  if (f.exit_code !== 0) {
    const why = f.oom_killed
      ? `was killed for exceeding its memory limit of ${f.memory_mb} MiB (exit code ${String(f.exit_code)})`
      : `exited with code ${String(f.exit_code)}`;
    const reported = f.oom_killed ? undefined : reportedFailureCode(f.stderr_tail);
    return error(reported ?? 'ERR_PROCESSOR_FAILED', `processor ${why}${tailSuffix}`);
  }
  const read = f.outputs_index;
  if (read.kind === 'missing') return error('ERR_OUTPUT_INVALID', 'processor exited 0 but wrote no outputs.json');
  if (read.kind === 'unreadable') return error('ERR_OUTPUT_INVALID', `outputs.json cannot be read: ${read.reason}`);
  let json: unknown;
  try {
    json = JSON.parse(read.text);
  } catch (err) {
    return error('ERR_OUTPUT_INVALID', `outputs.json cannot be read: ${(err as Error).message}`);
  }
  const parsed = OutputsIndexSchema.safeParse(json);
  if (!parsed.success) {
    const { where = '', message } = firstIssue(parsed.error);
    return error('ERR_OUTPUT_INVALID', `outputs.json does not match the schema at ${where}: ${message}`);
  }
  const prefix = f.write_prefix.endsWith('/') ? f.write_prefix : `${f.write_prefix}/`;
  // Claims, not facts: Settle verifies every one of them against the files.
  const outputs = parsed.data.outputs
    .map((o) => (o.path.startsWith('world://') ? o.path : `${prefix}${o.path.replace(/^\/+/, '')}`))
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return {
    status: 'success',
    execution_id: f.execution_id,
    outputs,
    index_path: `${prefix}outputs.json`,
    meta: f.meta,
  };
}
