// The run lifecycle of one execution: replay a recorded result, or adopt the container that carries the
// execution's name, or create it; then start, watch (heartbeats, deadline, cancel), record, remove.
import type Dockerode from 'dockerode';
import { errorEnvelope } from '../../contracts/envelope';
import { WorldloopError } from '../../contracts/errors';
import type { EnvelopeMeta } from '../../contracts/schemas';
import type { InvokeArgs, InvokeControl, InvokeOutcome } from '../adapter';
import { parseInvokeArgs } from './invoke-args';
import { LifecycleCapture } from '../../run-logs/capture';
import { LogTail } from '../log-tail';
import { LABELS, containerCreateOptions, containerName, HEARTBEAT_INTERVAL_MS } from './container-spec';
import type { DockerAdapterDeps } from './deps';
import { checkAdoption } from './adoption';
import { foreignWorkdir } from './execution-container';
import { createContainer, ensureImage, inspectContainer, waitForEngine, type Inspect } from './engine';
import { engineError, ignoreStatus, isUnreachable, isoOf, messageOf, sleep, statusOf } from './engine-errors';
import { withTimeout } from './engine-errors';
import { costFromReceipt, envelopeFor, ranPastDeadline, redactRunSecrets } from './envelope';
import { KillWatch, discardStopped, markContainer, stoppedByEngine } from './engine-stop';
import { layoutOf, prepareHostFiles, preparedFor, readForEnvelope, removeSecrets, type Layout } from './host-files';
import { parsePinnedImageRef, type PinnedImageRef } from '../../oci/image-ref';
import { checkOutputs, watchOutputs } from './output-watch';
import { collectTail, followLogs } from './logs';
import { readResultRecord, unstartedRecord, writeResultRecord } from './result-record';
import type { ResultRecord, Termination } from './result-record';
import { join } from 'node:path';
import { mkdir, rm } from 'node:fs/promises';

type WaitResult = { ok: true; status: number } | { ok: false; error: unknown };

/** Bounds on what the adapter reads of files the processor wrote. */
const MAX_RECEIPT_BYTES = 1024 * 1024;
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** How long an attempt waits for an engine that does not answer (a dockerd restart) before it gives up. */
const ENGINE_WAIT_MS = 20_000;

export class DockerRun {
  readonly #deps: DockerAdapterDeps;
  readonly #docker: Dockerode;
  readonly #raw: unknown;
  readonly #ctl: InvokeControl;
  #args!: InvokeArgs;
  #image!: PinnedImageRef;
  #paths!: Layout;
  #name = '';
  /** Which output limit the container passed, once it has. */
  #limitPassed = '';

  constructor(deps: DockerAdapterDeps, args: unknown, ctl: InvokeControl) {
    this.#deps = deps;
    this.#docker = deps.docker;
    this.#raw = args;
    this.#ctl = ctl;
  }

  async run(): Promise<InvokeOutcome> {
    this.#args = parseInvokeArgs(this.#raw);
    this.#image = parsePinnedImageRef(this.#args.image);
    this.#paths = layoutOf(this.#args);
    this.#name = containerName(this.#args.execution_id);

    const recorded = await this.#readRecorded();
    if (recorded) return this.#replay(recorded);

    await waitForEngine(
      this.#docker,
      this.#deps.engineWaitMs ?? ENGINE_WAIT_MS,
      () => this.#heartbeat({ phase: 'waiting_for_engine' }),
      this.#ctl.signal,
    );
    // Each pass either finishes the run or observes that the container vanished between two engine calls
    // (another attempt finalised it, or someone removed it); a few passes settle every such race.
    for (let pass = 0; pass < 5; pass++) {
      // A concurrent attempt may have recorded the outcome and removed the container since the last pass:
      // creating the container again now would run the processor twice.
      const late = pass > 0 ? await this.#readRecorded() : undefined;
      if (late) return this.#replay(late);
      const found = await inspectContainer(this.#docker, this.#name);
      if (found) {
        this.#checkOwnership(found);
        const replayed = await this.#takeWorkdirOf(found);
        if (replayed) return replayed;
        // Before anything is written for it (secrets above all): is it what we would have created?
        this.#checkAdoptable(found);
        this.#deps.logger?.info(
          { execution_id: this.#args.execution_id, container: this.#name, state: found.State.Status },
          'adopting the existing container of this execution',
        );
        const outcome = await this.#supervise(found, true);
        if (outcome) return outcome;
        continue;
      }
      if (this.#ctl.signal?.aborted) {
        this.#throwIfDetaching();
        return this.#finishWithoutContainer('cancelled before the container started');
      }
      if (await this.#ctl.recordedElsewhere?.()) {
        const id = this.#args.execution_id;
        throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `execution ${id} has a recorded outcome; no container`);
      }
      const runRef = await ensureImage(this.#docker, this.#image, this.#args.platform, this.#deps.pullRegistry, (ref) =>
        this.#heartbeat({ phase: 'pulling', image: ref }),
      );
      const created = await createContainer(
        this.#docker,
        containerCreateOptions(this.#args, runRef, this.#deps.egressNetwork),
      );
      if (!created) continue; // lost the name to a concurrent attempt: adopt it on the next pass
      try {
        await this.#prepare(created.id);
      } catch (err) {
        await ignoreStatus(created.remove({ force: true }), 404, 409).catch(() => undefined);
        await removeSecrets(this.#paths);
        throw err instanceof WorldloopError
          ? err
          : new WorldloopError('ERR_INTERNAL', `preparing ${this.#paths.workdir}: ${messageOf(err)}`, { cause: err });
      }
      this.#deps.logger?.info(
        {
          event: 'adapter.invoke',
          execution_id: this.#args.execution_id,
          processor_ref: this.#args.processor_ref,
          adapter: 'local',
          mode: this.#args.mode,
          container: this.#name,
          image_digest: this.#image.digest,
        },
        'adapter.invoke',
      );
      const info = await inspectContainer(this.#docker, created.id);
      const outcome = info ? await this.#supervise(info, false) : undefined;
      if (outcome) return outcome;
    }
    const recordedLate = await this.#readRecorded();
    if (recordedLate) return this.#replay(recordedLate);
    throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `container ${this.#name} keeps disappearing; retry later`);
  }

  #checkOwnership(info: Inspect): void {
    const label = info.Config.Labels?.[LABELS.executionId];
    if (label !== this.#args.execution_id) {
      throw new WorldloopError(
        'ERR_ADOPTION_REFUSED',
        `a container named ${this.#name} exists but is labelled for execution ${String(label)}; refusing to adopt it`,
      );
    }
  }

  /** The container's configuration against what this adapter creates: ERR_ADOPTION_REFUSED if it differs. */
  #checkAdoptable(info: Inspect, mode: 'throw' | 'test' = 'throw'): boolean {
    return checkAdoption(info, this.#args, this.#image, this.#deps, mode);
  }

  /**
   * A container another worker created mounts that worker's workdir: supervise it there (its outputs are
   * written there), replaying the outcome that worker recorded if it did (execution-container.ts).
   */
  async #takeWorkdirOf(found: Inspect): Promise<InvokeOutcome | undefined> {
    const workdir = foreignWorkdir(found, this.#args.execution_id, this.#paths.workdir);
    if (workdir === undefined) return undefined;
    this.#args = { ...this.#args, workdir };
    this.#paths = layoutOf(this.#args);
    const recorded = await this.#readRecorded();
    return recorded ? this.#replay(recorded) : undefined;
  }

  #prepare(containerId: string): Promise<void> {
    const logger = this.#deps.logger;
    const execution_id = this.#args.execution_id;
    return prepareHostFiles(this.#paths, this.#args, containerId, {
      warn: (o, msg) => logger?.warn({ execution_id, ...o }, msg),
    });
  }

  #readRecorded(): Promise<ResultRecord | undefined> {
    return readResultRecord(this.#paths.result, this.#args.execution_id);
  }

  async #replay(record: ResultRecord): Promise<InvokeOutcome> {
    // A crash between writing the record and removing the container leaves both: finish the clean-up, unless
    // the caller keeps the container until the outcome is durable elsewhere. Only a container we would have
    // created is ours to remove (anything else stays for a person to see); an engine away changes nothing.
    const left = this.#ctl.keepContainer
      ? undefined
      : await inspectContainer(this.#docker, this.#name).catch(() => undefined);
    if (left?.Config.Labels?.[LABELS.executionId] === this.#args.execution_id && this.#checkAdoptable(left, 'test'))
      await ignoreStatus(this.#docker.getContainer(left.Id).remove({ force: true }), 404, 409).catch(() => undefined);
    await removeSecrets(this.#paths);
    return this.#outcome(record, true);
  }

  #outcome(record: ResultRecord, adopted: boolean): InvokeOutcome {
    return {
      envelope: record.envelope,
      exit_code: record.exit_code,
      started_at: record.started_at,
      finished_at: record.finished_at,
      out_dir: this.#paths.out,
      stderr_tail: record.stderr_tail,
      adopted,
    };
  }

  /** An abort the caller classifies as "stop watching" (worker shutdown) leaves the container to a retry. */
  #throwIfDetaching(): void {
    const signal = this.#ctl.signal;
    if (!signal?.aborted || !this.#ctl.detachOn?.(signal.reason)) return;
    throw new WorldloopError(
      'ERR_ADAPTER_UNAVAILABLE',
      `stopped watching container ${this.#name} (${messageOf(signal.reason)}); it keeps running and a retry of this execution adopts it`,
    );
  }

  #heartbeat(detail: Record<string, unknown>): void {
    try {
      this.#ctl.heartbeat?.(detail);
    } catch {
      // A failing heartbeat must not kill the run; Temporal notices missing heartbeats on its own.
    }
  }

  /**
   * Starts (if needed), waits for, finalises and removes the container. Returns undefined when the
   * container disappeared before this attempt could record it, so the caller looks again.
   */
  async #supervise(info: Inspect, adopted: boolean): Promise<InvokeOutcome | undefined> {
    const container = this.#docker.getContainer(info.Id);
    let current: Inspect | undefined = info;

    if (current.State.Status === 'created') {
      if (adopted && (await this.#waitPrepared(info.Id)) !== info.Id) {
        // Its creator died between create and prepare: the files are ours to write (same inputs, same id).
        await this.#prepare(info.Id);
      }
      if (this.#ctl.signal?.aborted) {
        this.#throwIfDetaching();
        return this.#finalise(container, current, 'cancelled', new LogTail(), adopted);
      }
      try {
        await container.start();
      } catch (err) {
        const status = statusOf(err);
        if (status === 404) return undefined;
        if (status !== 304) {
          if (isUnreachable(err)) throw engineError(err, `start ${this.#name}`);
          // The engine refused to start it (entry point missing, bad mount…): a failed run, recorded as such.
          return this.#finalise(container, current, 'start_failed', new LogTail(), adopted, messageOf(err));
        }
      }
      current = await inspectContainer(this.#docker, info.Id);
      if (!current) return undefined;
    }
    this.#heartbeat({ phase: 'running', container: this.#name, adopted });

    const tail = new LogTail();
    const capture = new LifecycleCapture();
    const follow = followLogs(this.#docker, container, tail, capture.sink());
    let termination: Termination = 'exited';
    let watch: KillWatch | undefined;
    if (current.State.Running || current.State.Paused || current.State.Restarting) {
      watch = await KillWatch.start(this.#docker, info.Id, (signal) => {
        void this.#markLost(info.Id, `the engine sent signal ${signal} to the container; worldloop did not`);
      });
      try {
        termination = await this.#waitForExit(container, current, watch);
      } catch (err) {
        follow.stop();
        watch.stop();
        throw err;
      }
    }
    const collected = await collectTail(container, follow, tail);
    // The processor's lifecycle lines for Execute to keep as the run's log (before the result is recorded,
    // so a replaying retry finds them); a failure here costs the log, never the run.
    await capture.save(this.#paths.workdir).catch(() => undefined);
    const final = await inspectContainer(this.#docker, info.Id).catch(async (err: unknown) => {
      await this.#markLost(info.Id, `the engine stopped answering after the container exited: ${messageOf(err)}`);
      throw err;
    });
    if (!final) {
      // Another attempt supervising the same container recorded it first. Who created the container does
      // not change with who finalised it: the creator still reports adopted: false.
      const recorded = await this.#readRecorded();
      return recorded ? this.#outcome(recorded, adopted) : undefined;
    }
    // Another attempt (or one that died before recording it) killed the container at its deadline: that
    // is a timeout, not a processor that chose to exit 137.
    if (termination === 'exited' && ranPastDeadline(final.State, this.#args.runtime.timeout_s)) termination = 'timeout';
    if (termination === 'exited' && (await stoppedByEngine(final, watch, this.#paths))) {
      return this.#discardStopped(final, watch);
    }
    watch?.stop();
    if (termination === 'exited') {
      // A processor that wrote past a limit and exited before the next poll is refused all the same.
      const over = await checkOutputs(this.#paths.out, this.#args.runtime.outputs);
      if (over) [termination, this.#limitPassed] = ['output_limit', over];
    }
    return this.#finalise(container, final, termination, collected, adopted, this.#limitPassed);
  }

  async #waitPrepared(containerId: string): Promise<string | undefined> {
    const until = Date.now() + (this.#deps.preparedWaitMs ?? 10_000);
    for (;;) {
      const id = await preparedFor(this.#paths);
      if (id === containerId || Date.now() >= until) return id;
      await sleep(100);
    }
  }

  /** Writes the engine-lost mark at once (engine-stop.ts); a mark that cannot be written costs only the retry. */
  #markLost(containerId: string, reason: string): Promise<void> {
    return markContainer(this.#paths.engineLost, containerId, reason).catch(() => undefined);
  }

  #discardStopped(final: Inspect, watch: KillWatch | undefined): Promise<never> {
    const beat = () => this.#heartbeat({ phase: 'waiting_for_engine' });
    return discardStopped(this.#docker, final, {
      name: this.#name,
      paths: this.#paths,
      watch,
      beat,
      logger: this.#deps.logger,
    });
  }

  async #waitForExit(container: Dockerode.Container, info: Inspect, kills: KillWatch): Promise<Termination> {
    const waited: Promise<WaitResult> = container.wait().then(
      (r: { StatusCode?: number }) => ({ ok: true as const, status: Number(r?.StatusCode ?? -1) }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const startedMs = Date.parse(info.State.StartedAt);
    const deadline =
      (Number.isFinite(startedMs) && startedMs > 0 ? startedMs : Date.now()) + this.#args.runtime.timeout_s * 1000;

    const beat = () =>
      this.#heartbeat({
        phase: 'running',
        container: this.#name,
        elapsed_ms: Date.now() - (deadline - this.#args.runtime.timeout_s * 1000),
      });
    const interval = setInterval(beat, HEARTBEAT_INTERVAL_MS);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const signal = this.#ctl.signal;
    const watch = watchOutputs(this.#paths.out, this.#args.runtime.outputs);
    try {
      const reason = await Promise.race<Termination | WaitResult>([
        waited,
        new Promise<Termination>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
        }),
        new Promise<Termination>((resolve) => {
          if (!signal) return;
          if (signal.aborted) return resolve('cancelled');
          onAbort = () => resolve('cancelled');
          signal.addEventListener('abort', onAbort, { once: true });
        }),
        watch.passed.then((over): Termination => {
          this.#limitPassed = over;
          return 'output_limit';
        }),
      ]);
      if (typeof reason === 'object') {
        if (reason.ok) return 'exited';
        const lost = engineError(reason.error, `wait ${this.#name}`);
        if (lost.code === 'ERR_ADAPTER_UNAVAILABLE') await this.#markLost(info.Id, lost.detail);
        throw lost;
      }
      if (reason === 'cancelled') this.#throwIfDetaching();
      kills.expectOwnKill();
      await markContainer(this.#paths.ownKill, info.Id, reason);
      try {
        await ignoreStatus(container.kill(), 404, 409);
      } catch (err) {
        throw engineError(err, `kill ${this.#name}`);
      }
      const after = await withTimeout(waited, 15_000, `wait ${this.#name} after kill`);
      if (!after.ok && statusOf(after.error) !== 404) throw engineError(after.error, `wait ${this.#name}`);
      return reason;
    } finally {
      watch.stop();
      clearInterval(interval);
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Records the outcome (before removing anything), removes the container and the secrets. */
  async #finalise(
    container: Dockerode.Container,
    info: Inspect,
    termination: Termination,
    tail: LogTail,
    adopted: boolean,
    detail = '',
  ): Promise<InvokeOutcome> {
    const now = new Date().toISOString();
    const started_at = isoOf(info.State.StartedAt) ?? now;
    const reported = isoOf(info.State.FinishedAt) ?? (termination === 'exited' ? started_at : now);
    // Docker stamps StartedAt once the process is running, so a very short run can "finish" a few ms
    // before it started; keep the pair ordered.
    const finished_at = Date.parse(reported) < Date.parse(started_at) ? started_at : reported;
    const exit_code = termination === 'exited' ? info.State.ExitCode : null;
    const stderr_tail = this.#redact(tail.text());
    const receipt = await readForEnvelope(join(this.#paths.out, 'receipt.json'), MAX_RECEIPT_BYTES);
    const cleanExit = termination === 'exited' && exit_code === 0;
    const envelope = envelopeFor({
      execution_id: this.#args.execution_id,
      write_prefix: this.#args.write_prefix,
      container: this.#name,
      timeout_s: this.#args.runtime.timeout_s,
      memory_mb: this.#args.runtime.memory_mb,
      termination,
      exit_code,
      oom_killed: info.State.OOMKilled,
      stderr_tail,
      detail: this.#redact(detail),
      outputs_index: cleanExit
        ? await readForEnvelope(join(this.#paths.out, 'outputs.json'), MAX_INDEX_BYTES)
        : { kind: 'missing' },
      meta: this.#meta(started_at, finished_at, costFromReceipt(receipt)),
    });
    const record: ResultRecord = {
      result_schema: 'worldloop.docker-result/v1',
      execution_id: this.#args.execution_id,
      container_id: info.Id,
      termination,
      exit_code,
      started_at,
      finished_at,
      stderr_tail,
      envelope,
    };
    await writeResultRecord(this.#paths.result, record);
    // Refused outputs are never staged; give their disk back now rather than when the workdir goes.
    if (termination === 'output_limit') await rm(this.#paths.out, { recursive: true, force: true });
    try {
      if (!this.#ctl.keepContainer) await ignoreStatus(container.remove({ force: true }), 404, 409);
    } catch (err) {
      // The outcome is recorded; a container left behind is removed by the next attempt or by hand.
      this.#deps.logger?.warn(
        { execution_id: this.#args.execution_id, container: this.#name, err: messageOf(err) },
        'container removal failed',
      );
    }
    await removeSecrets(this.#paths);
    this.#deps.logger?.info(
      {
        event: 'adapter.complete',
        execution_id: this.#args.execution_id,
        processor_ref: this.#args.processor_ref,
        adapter: 'local',
        mode: this.#args.mode,
        container: this.#name,
        status: envelope.status,
        code: envelope.status === 'error' ? envelope.error.code : undefined,
        exit_code,
        duration_ms: envelope.meta.duration_ms,
        adopted,
      },
      'adapter.complete',
    );
    return this.#outcome(record, adopted);
  }

  /** An outcome for a run that never got a container (cancelled before start), recorded like any other. */
  async #finishWithoutContainer(detail: string): Promise<InvokeOutcome> {
    const now = new Date().toISOString();
    const envelope = errorEnvelope(this.#args.execution_id, 'ERR_CANCELLED', detail, this.#meta(now, now, 0));
    const record = unstartedRecord(envelope, now);
    await mkdir(this.#paths.workdir, { recursive: true });
    await writeResultRecord(this.#paths.result, record);
    await removeSecrets(this.#paths);
    return this.#outcome(record, false);
  }

  #redact(text: string): string {
    return redactRunSecrets(text, this.#args.secrets, this.#deps.redact);
  }

  #meta(started_at: string, finished_at: string, cost_micro: number): EnvelopeMeta {
    return {
      env_fingerprint: this.#args.env_fingerprint,
      image_digest: this.#image.digest,
      adapter: 'local',
      mode: this.#args.mode,
      duration_ms: Math.max(0, Math.round(Date.parse(finished_at) - Date.parse(started_at))) || 0,
      cache_hit: false,
      cost_micro,
    };
  }
}
