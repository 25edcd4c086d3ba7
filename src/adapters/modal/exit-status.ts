// How a finished Modal sandbox process becomes an outcome (issue 8), as a pure function.
//
// Exit codes 124 and 137 are ambiguous in Modal: 124 is what a sandbox reports when its own timeout fires
// and 137 when it is terminated (SIGKILL) — but a processor may also exit 124 or 137 by itself (timeout(1)
// inside it, or the kernel's OOM killer). So the code alone never decides: only what the adapter itself
// did does. When the adapter cancelled the run it is ERR_CANCELLED; when the adapter's clock passed the
// runtime's timeout (or the adapter asked the sandbox to stop for that reason) it is ERR_TIMEOUT; otherwise
// the exit code is the processor's own, and any non-zero code is ERR_PROCESSOR_FAILED with the redacted
// stderr tail.
import type { ErrorCode } from '../../contracts/errors';

/** What the adapter knows when the sandbox process has ended. */
export interface SandboxEnd {
  /** The exit code Modal reported; null when none (the sandbox was gone before the process reported). */
  readonly exitCode: number | null;
  /** The adapter aborted the run (workflow cancellation). */
  readonly cancelledByAdapter: boolean;
  /** The adapter's own deadline (runtime.timeout_s) passed before the process ended. */
  readonly timedOutByAdapter: boolean;
  /** Redacted last lines of stderr. */
  readonly stderrTail: string;
  readonly timeoutS: number;
}

export type SandboxVerdict =
  | { readonly ok: true; readonly exitCode: 0 }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly exitCode: number | null };

const TAIL_IN_MESSAGE = 2_000;

export function sandboxVerdict(end: SandboxEnd): SandboxVerdict {
  // Cancellation wins over a timeout that raced it: the workflow asked to stop, and said so first.
  if (end.cancelledByAdapter) {
    return {
      ok: false,
      code: 'ERR_CANCELLED',
      message: 'the run was cancelled; the sandbox was terminated',
      exitCode: null,
    };
  }
  if (end.timedOutByAdapter) {
    return {
      ok: false,
      code: 'ERR_TIMEOUT',
      message: `the processor ran longer than runtime.timeout_s ${end.timeoutS} s; the sandbox was terminated`,
      exitCode: null,
    };
  }
  if (end.exitCode === 0) return { ok: true, exitCode: 0 };
  if (end.exitCode === null) {
    // Not cancelled or timed out by us, yet no exit code: Modal lost or killed the sandbox (e.g. preempted).
    return {
      ok: false,
      code: 'ERR_ADAPTER_UNAVAILABLE',
      message: 'the sandbox ended without an exit code (stopped by Modal, not by worldloop)',
      exitCode: null,
    };
  }
  const tail = end.stderrTail.length > TAIL_IN_MESSAGE ? `…${end.stderrTail.slice(-TAIL_IN_MESSAGE)}` : end.stderrTail;
  return {
    ok: false,
    code: 'ERR_PROCESSOR_FAILED',
    message: `the processor exited with ${end.exitCode}${tail ? `; stderr tail:\n${tail}` : ''}`,
    exitCode: end.exitCode,
  };
}
