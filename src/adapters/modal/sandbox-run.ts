// One execution on Modal, written against the ModalPort (port.ts) so every path is unit-tested without a
// server:
//
//   app by the naming rule → image of the pinned digest (cached per digest) → named secrets (real mode only)
//   → sandboxes of an earlier attempt of this execution (found by tag) terminated → one sandbox, tagged
//   → prepare /work → processor (the local adapter's argv; heartbeats; our own clock for the timeout; the
//   workflow's cancel) → /work/out back as a tar, unpacked with the checks of output-tar.ts → envelope.
//
// The sandbox is terminated in every outcome before invoke returns, so a cancelled run has stopped before
// the workflow releases its budget. Exit codes 124/137 are never read as a timeout or a kill by themselves:
// what the adapter did decides (exit-status.ts).
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { errorEnvelope } from '../../contracts/envelope';
import { WorldloopError } from '../../contracts/errors';
import type { EnvelopeMeta } from '../../contracts/schemas';
import { LifecycleCapture } from '../../run-logs/capture';
import type { InvokeArgs, InvokeControl, InvokeOutcome } from '../adapter';
import { HEARTBEAT_INTERVAL_MS } from '../docker/container-spec';
import type { AdapterLogger } from '../docker/deps';
import { costFromReceipt, envelopeFor, type ProcessorFileRead } from '../docker/envelope';
import { readProcessorFile } from '../docker/host-files';
import { parsePinnedImageRef, type PinnedImageRef } from '../../oci/image-ref';
import { parseInvokeArgs } from '../docker/invoke-args';
import { LogTail } from '../log-tail';
import { modalAppName, type AppOwner } from './app-name';
import { toModalError } from './errors';
import { sandboxVerdict } from './exit-status';
import { unpackOutputTar } from './output-tar';
import type { ExecHandle, ModalPort, SandboxHandle, SecretRef } from './port';
import {
  KEEP_ALIVE_COMMAND,
  PREPARE_COMMAND,
  PREPARE_MISSING_SECRET_EXIT,
  collectCommand,
  processorCommand,
} from './sandbox-commands';
import { SANDBOX_SECRETS_DIR, preparePayload } from './work-files';

/** The tag that ties a sandbox to its execution; a retried Execute finds earlier sandboxes by it. */
export const EXECUTION_TAG = 'worldloop.execution_id';
/** The sandbox's name: Modal keeps names unique among an app's running sandboxes, so two concurrent
 * attempts of one execution cannot both create one (the loser gets ERR_ADAPTER_UNAVAILABLE and retries). */
export function sandboxName(executionId: string): string {
  return `wl-${executionId}`;
}
/** Seconds the sandbox may live beyond runtime.timeout_s, for preparing /work and collecting /work/out. */
export const SANDBOX_GRACE_S = 120;

const MAX_RECEIPT_BYTES = 1024 * 1024;
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface ModalAdapterDeps {
  readonly port: ModalPort;
  /** Whose app a run uses (DESIGN §8 naming rule): the CI lane's, or one person's on one branch. */
  readonly appOwner: AppOwner;
  /** Name (from the allow-list) of the Modal secret holding registry credentials for private images. */
  readonly pullSecret?: string;
  readonly redact?: (s: string) => string;
  readonly logger?: AdapterLogger;
  /** Test hook: heartbeat interval, ms. */
  readonly heartbeatMs?: number;
}

type Ending = { kind: 'exited'; code: number } | { kind: 'timeout' } | { kind: 'cancelled' };

async function readForEnvelope(path: string, maxBytes: number): Promise<ProcessorFileRead> {
  try {
    const text = await readProcessorFile(path, maxBytes);
    return text === undefined ? { kind: 'missing' } : { kind: 'text', text };
  } catch (err) {
    return { kind: 'unreadable', reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Reads a stream to its end into `sink`; a broken stream ends the read, the exit code still decides. */
async function drain(stream: AsyncIterable<Uint8Array>, sink: (chunk: Buffer) => void): Promise<void> {
  try {
    for await (const chunk of stream) sink(Buffer.from(chunk));
  } catch {
    // The stderr tail is diagnostics; losing its end must not change the outcome.
  }
}

export class ModalRun {
  readonly #deps: ModalAdapterDeps;
  readonly #ctl: InvokeControl;
  readonly #args: InvokeArgs;
  readonly #image: PinnedImageRef;
  readonly #appName: string;
  #sandboxId = '';

  constructor(deps: ModalAdapterDeps, raw: unknown, ctl: InvokeControl) {
    this.#deps = deps;
    this.#ctl = ctl;
    this.#args = parseInvokeArgs(raw);
    this.#image = parsePinnedImageRef(this.#args.image);
    this.#appName = modalAppName(this.#args.processor_ref, deps.appOwner);
  }

  get #out(): string {
    return join(this.#args.workdir, 'out');
  }

  async run(): Promise<InvokeOutcome> {
    const args = this.#args;
    const names = Object.keys(args.secrets).sort();
    if (args.mode === 'mock' && names.length > 0) {
      throw new WorldloopError(
        'ERR_SECRET_NOT_ALLOWED',
        `mock mode never receives secrets, but ${names.join(', ')} were passed`,
      );
    }
    // Heartbeats through every step, not only while the processor runs: an image build, a slow scheduler or a
    // loaded machine must not look like a dead worker to Temporal (Execute's heartbeat timeout is 10 s).
    const beat = setInterval(
      () => this.#heartbeat({ phase: 'modal', app: this.#appName, sandbox: this.#sandboxId || undefined }),
      this.#deps.heartbeatMs ?? HEARTBEAT_INTERVAL_MS,
    );
    try {
      return await this.#runWithApp();
    } finally {
      clearInterval(beat);
    }
  }

  async #runWithApp(): Promise<InvokeOutcome> {
    const args = this.#args;
    const port = this.#deps.port;
    // Built (and every artifact re-hashed) before any Modal call: a refusal here creates nothing.
    const payload = await preparePayload(args);
    const app = await port.app(this.#appName);
    const image = await port.image(app, args.image, this.#deps.pullSecret);
    // Real mode names the secrets; their values stay in Modal. Mock mode looks up none.
    const secrets = args.mode === 'real' ? await port.secrets(Object.keys(args.secrets).sort()) : [];
    await this.#terminateEarlierAttempts(await port.findSandboxes(app, { [EXECUTION_TAG]: args.execution_id }));
    if (this.#ctl.signal?.aborted) return this.#cancelledBeforeStart();
    this.#heartbeat({ phase: 'creating sandbox', app: this.#appName });
    const sandbox = await port.createSandbox(app, image, {
      command: KEEP_ALIVE_COMMAND,
      cpu: args.runtime.cpu,
      memoryMiB: args.runtime.memory_mb,
      timeoutMs: (args.runtime.timeout_s + SANDBOX_GRACE_S) * 1000,
      blockNetwork: !(args.mode === 'real' && args.runtime.network === 'egress'),
      tags: { [EXECUTION_TAG]: args.execution_id },
      name: sandboxName(args.execution_id),
    });
    this.#sandboxId = sandbox.sandboxId;
    this.#deps.logger?.info(
      {
        event: 'adapter.invoke',
        execution_id: args.execution_id,
        processor_ref: args.processor_ref,
        adapter: 'modal',
        mode: args.mode,
        app: this.#appName,
        sandbox: sandbox.sandboxId,
        image_digest: this.#image.digest,
      },
      'adapter.invoke',
    );
    try {
      return await this.#runIn(sandbox, payload.bytes, secrets);
    } finally {
      await this.#stop(sandbox);
    }
  }

  /** Never two sandboxes for one execution: whatever an earlier attempt left running is stopped first. */
  async #terminateEarlierAttempts(found: SandboxHandle[]): Promise<void> {
    for (const sb of found) {
      this.#deps.logger?.warn(
        { execution_id: this.#args.execution_id, sandbox: sb.sandboxId },
        'terminating the sandbox of an earlier attempt of this execution',
      );
      await sb.terminate();
      await sb.wait();
      sb.detach();
    }
  }

  async #runIn(sandbox: SandboxHandle, payload: Uint8Array, secrets: readonly SecretRef[]): Promise<InvokeOutcome> {
    await this.#prepare(sandbox, payload, secrets);
    const tail = new LogTail();
    const capture = new LifecycleCapture();
    const started_at = new Date().toISOString();
    const proc = await sandbox.exec(processorCommand(this.#args), { stdout: 'ignore', stderr: 'pipe' });
    const stderr = drain(proc.stderr, (chunk) => {
      tail.push(chunk);
      capture.push(chunk);
    });
    const ending = await this.#watch(proc, sandbox);
    const finished_at = new Date().toISOString();
    // After a terminate the stream ends with the sandbox; a processor that exited has closed it already.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([stderr, new Promise((resolve) => (grace = setTimeout(resolve, 5_000)))]);
    clearTimeout(grace);
    await capture.save(this.#args.workdir).catch(() => undefined);
    const stderr_tail = this.#redact(tail.text());
    const verdict = sandboxVerdict({
      exitCode: ending.kind === 'exited' ? ending.code : null,
      cancelledByAdapter: ending.kind === 'cancelled',
      timedOutByAdapter: ending.kind === 'timeout',
      stderrTail: stderr_tail,
      timeoutS: this.#args.runtime.timeout_s,
    });
    const exit_code = ending.kind === 'exited' ? ending.code : null;
    const outcome = (envelope: InvokeOutcome['envelope']): InvokeOutcome => {
      this.#complete(envelope, exit_code);
      return { envelope, exit_code, started_at, finished_at, out_dir: this.#out, stderr_tail, adopted: false };
    };
    if (!verdict.ok && verdict.code !== 'ERR_PROCESSOR_FAILED') {
      return outcome(
        errorEnvelope(this.#args.execution_id, verdict.code, verdict.message, this.#meta(started_at, finished_at, 0)),
      );
    }
    if (verdict.ok) {
      const refused = await this.#collect(sandbox);
      if (refused) {
        return outcome(
          errorEnvelope(this.#args.execution_id, refused.code, refused.detail, this.#meta(started_at, finished_at, 0)),
        );
      }
    }
    const cost = costFromReceipt(await readForEnvelope(join(this.#out, 'receipt.json'), MAX_RECEIPT_BYTES));
    return outcome(
      envelopeFor({
        execution_id: this.#args.execution_id,
        write_prefix: this.#args.write_prefix,
        container: `sandbox ${sandbox.sandboxId}`,
        timeout_s: this.#args.runtime.timeout_s,
        memory_mb: this.#args.runtime.memory_mb,
        termination: 'exited',
        exit_code,
        oom_killed: false,
        stderr_tail,
        detail: '',
        outputs_index: verdict.ok
          ? await readForEnvelope(join(this.#out, 'outputs.json'), MAX_INDEX_BYTES)
          : { kind: 'missing' },
        meta: this.#meta(started_at, finished_at, cost),
      }),
    );
  }

  /**
   * Writes /work inside the sandbox (work-files.ts). Only this command gets the named secrets — Modal sets
   * them as its environment — and it writes them to files: the sandbox's own process, the processor and the
   * collect step never carry a secret in their environment.
   */
  async #prepare(sandbox: SandboxHandle, payload: Uint8Array, secrets: readonly SecretRef[]): Promise<void> {
    const proc = await sandbox.exec(PREPARE_COMMAND, { stdin: payload, stdout: 'ignore', stderr: 'pipe', secrets });
    const tail = new LogTail();
    await drain(proc.stderr, (chunk) => tail.push(chunk));
    const code = await proc.wait();
    if (code === PREPARE_MISSING_SECRET_EXIT) {
      throw new WorldloopError(
        'ERR_MISSING_SECRET',
        `a Modal secret of this run does not hold the key of its name (${this.#redact(tail.text()).slice(-300).trim()}); expected ${SANDBOX_SECRETS_DIR}/<NAME> from the secret named <NAME>`,
      );
    }
    if (code !== 0) {
      throw new WorldloopError(
        'ERR_ADAPTER_UNAVAILABLE',
        `preparing /work in sandbox ${sandbox.sandboxId} failed (exit ${code}): ${this.#redact(tail.text()).slice(-500)}`,
      );
    }
  }

  /** Races the processor against our own clock and the workflow's cancel; stops the sandbox on either. */
  async #watch(proc: ExecHandle, sandbox: SandboxHandle): Promise<Ending> {
    const { signal } = this.#ctl;
    const started = Date.now();
    const beat = setInterval(
      () => this.#heartbeat({ phase: 'running', sandbox: sandbox.sandboxId, elapsed_ms: Date.now() - started }),
      this.#deps.heartbeatMs ?? HEARTBEAT_INTERVAL_MS,
    );
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const waited = proc.wait().then(
      (code): Ending => ({ kind: 'exited', code }),
      (err: unknown) => ({ kind: 'failed' as const, err }),
    );
    try {
      const first = await Promise.race([
        waited,
        new Promise<Ending>((resolve) => {
          timer = setTimeout(() => resolve({ kind: 'timeout' }), this.#args.runtime.timeout_s * 1000);
        }),
        new Promise<Ending>((resolve) => {
          if (!signal) return;
          if (signal.aborted) return resolve({ kind: 'cancelled' });
          onAbort = () => resolve({ kind: 'cancelled' });
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      if (first.kind === 'failed') throw toModalError(first.err, 'exec');
      if (first.kind !== 'exited') {
        // Stop it now, before anything else: a cancel must not outlive invoke (budget is released after).
        await sandbox.terminate();
        if (first.kind === 'cancelled' && signal?.aborted && this.#ctl.detachOn?.(signal.reason)) {
          throw new WorldloopError(
            'ERR_ADAPTER_UNAVAILABLE',
            `stopped watching sandbox ${sandbox.sandboxId} (the worker is going away); it was terminated and a retry of this execution starts afresh`,
          );
        }
      }
      return first;
    } finally {
      clearInterval(beat);
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** /work/out back as a tar, unpacked into <workdir>/out; a refusal is returned as the run's error. */
  async #collect(sandbox: SandboxHandle): Promise<WorldloopError | undefined> {
    await rm(this.#out, { recursive: true, force: true });
    const proc = await sandbox.exec(collectCommand(), { stdout: 'pipe', stderr: 'ignore' });
    try {
      await unpackOutputTar(proc.stdout, this.#out, this.#args.runtime.outputs);
    } catch (err) {
      if (err instanceof WorldloopError && (err.code === 'ERR_OUTPUT_INVALID' || err.code === 'ERR_OUTPUT_TOO_LARGE')) {
        return err;
      }
      throw toModalError(err, 'output');
    }
    const code = await proc.wait();
    if (code !== 0) return new WorldloopError('ERR_OUTPUT_INVALID', `collecting /work/out failed (exit ${code})`);
    return undefined;
  }

  /** Terminates the sandbox (every outcome) and waits, bounded, until Modal says it stopped. */
  async #stop(sandbox: SandboxHandle): Promise<void> {
    try {
      await sandbox.terminate();
      await sandbox.wait();
    } catch (err) {
      this.#deps.logger?.warn(
        {
          execution_id: this.#args.execution_id,
          sandbox: sandbox.sandboxId,
          err: toModalError(err, 'terminate').message,
        },
        'sandbox termination not confirmed; its own timeout stops it',
      );
    } finally {
      sandbox.detach();
    }
  }

  #cancelledBeforeStart(): InvokeOutcome {
    const now = new Date().toISOString();
    const envelope = errorEnvelope(
      this.#args.execution_id,
      'ERR_CANCELLED',
      'cancelled before the sandbox was created',
      this.#meta(now, now, 0),
    );
    return {
      envelope,
      exit_code: null,
      started_at: now,
      finished_at: now,
      out_dir: this.#out,
      stderr_tail: '',
      adopted: false,
    };
  }

  #complete(envelope: InvokeOutcome['envelope'], exit_code: number | null): void {
    this.#deps.logger?.info(
      {
        event: 'adapter.complete',
        execution_id: this.#args.execution_id,
        processor_ref: this.#args.processor_ref,
        adapter: 'modal',
        mode: this.#args.mode,
        app: this.#appName,
        sandbox: this.#sandboxId,
        status: envelope.status,
        code: envelope.status === 'error' ? envelope.error.code : undefined,
        exit_code,
        duration_ms: envelope.meta.duration_ms,
      },
      'adapter.complete',
    );
  }

  #heartbeat(detail: Record<string, unknown>): void {
    try {
      this.#ctl.heartbeat?.(detail);
    } catch {
      // A failing heartbeat must not kill the run; Temporal notices missing heartbeats on its own.
    }
  }

  #redact(text: string): string {
    let out = text;
    for (const v of Object.values(this.#args.secrets)
      .filter((s) => s.length > 0)
      .sort((x, y) => y.length - x.length)) {
      out = out.split(v).join('[REDACTED]');
    }
    return this.#deps.redact ? this.#deps.redact(out) : out;
  }

  #meta(started_at: string, finished_at: string, cost_micro: number): EnvelopeMeta {
    return {
      env_fingerprint: this.#args.env_fingerprint,
      image_digest: this.#image.digest,
      adapter: 'modal',
      mode: this.#args.mode,
      duration_ms: Math.max(0, Math.round(Date.parse(finished_at) - Date.parse(started_at))) || 0,
      cache_hit: false,
      cost_micro,
      modal_app: this.#appName,
      ...(this.#sandboxId ? { modal_sandbox: this.#sandboxId } : {}),
    };
  }
}
