// The local adapter (DESIGN.md §2 Execute, §8): runs a pinned image in a hardened Docker container, one
// container per execution, named after the execution id so that a retried activity adopts what is
// already there instead of starting a second run.
//
// Host layout for one execution (the caller owns <workdir>, stable per execution_id):
//   <workdir>/inputs.json     the inputs, mounted read-only at /work/inputs.json
//   <workdir>/config.json     non-secret processor config (optional)
//   <workdir>/out/            the only writable mount (/work/out), owned by the container user 65532
//   <workdir>/prepared.json   which container the files above were prepared for
//   <workdir>/result.json     the outcome, written before the container is removed; a retry returns it
//   <workdir>/../secrets-<id> real mode only: 0700 folder of 0400 files, mounted read-only at /run/secrets
//
// The rest of /work is read-only inside the container, so a processor cannot forge result.json.
import { constants as fsc } from 'node:fs';
import { chmod, chown, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type Dockerode from 'dockerode';
import { z } from 'zod';
import { WorldloopError, assertNever, type ErrorCode } from '../contracts/errors';
import {
  EnvelopeSchema,
  OutputsIndexSchema,
  PinnedImageSchema,
  type Envelope,
  type EnvelopeMeta,
} from '../contracts/schemas';
import { InvokeArgsSchema, type Adapter, type InvokeArgs, type InvokeControl, type InvokeOutcome } from './adapter';
import { LogTail, TAIL_MAX_LINES, demuxBuffer } from './log-tail';

export const CONTAINER_UID = 65532;
export const CONTAINER_USER = `${CONTAINER_UID}:${CONTAINER_UID}`;
export const HEARTBEAT_INTERVAL_MS = 2_000;
export const TMPFS_OPTIONS = 'rw,noexec,nosuid,size=64m';
export const LABELS = {
  executionId: 'worldloop.execution_id',
  processorRef: 'worldloop.processor_ref',
  mode: 'worldloop.mode',
} as const;

/** `wl-<execution_id>`: the name is the lock that keeps one execution to one container. */
export function containerName(executionId: string): string {
  return `wl-${executionId}`;
}

export interface AdapterLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export interface DockerAdapterDeps {
  docker: Dockerode;
  /** Applied to the stderr tail after the run's own secret values have been removed. */
  redact?: (s: string) => string;
  /**
   * Registry host to pull pinned images from when they are not present locally (e.g. `127.0.0.1:5000`).
   * When it differs from the image's own host, `<pullRegistry>/<path>@<digest>` is pulled and run instead —
   * same digest, so the engine still verifies the bytes; unset pulls from the image's own host.
   */
  pullRegistry?: string;
  logger?: AdapterLogger;
  /**
   * Network for real-mode runs whose runtime asks for `egress`; default `bridge`. Mock mode is always
   * `none`. A dockerd started with `--bridge=none` (as on the reference dev machine) has no `bridge`
   * network: such runs then fail with ERR_ADAPTER_UNAVAILABLE until a network is created and named here.
   */
  egressNetwork?: string;
  /** Test hook: how long a retry waits for another attempt to finish preparing a created container. */
  preparedWaitMs?: number;
}

export function createDockerAdapter(deps: DockerAdapterDeps): Adapter {
  return {
    name: 'local',
    invoke: (args: InvokeArgs, ctl?: InvokeControl) => new DockerRun(deps, args, ctl ?? {}).run(),
  };
}

// ------------------------------------------------------------------------------------------ arguments

function parseInvokeArgs(raw: unknown): InvokeArgs {
  if (raw !== null && typeof raw === 'object' && 'image' in raw && typeof raw.image === 'string') {
    parsePinnedImage(raw.image);
  }
  const parsed = InvokeArgsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : '(arguments)';
    throw new WorldloopError('ERR_USAGE', `adapter invoke: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

export interface PinnedImage {
  /** As given: `<repository>@sha256:<hex>`. */
  readonly ref: string;
  readonly repository: string;
  readonly digest: string;
  /** The registry host when the repository names one (`ghcr.io`, `127.0.0.1:5000`), else undefined. */
  readonly host: string | undefined;
  /** The repository without its host. */
  readonly path: string;
}

/** Throws ERR_IMAGE_UNPINNED unless `ref` is `<repository>@sha256:<64 hex>` with no tag beside the digest. */
export function parsePinnedImage(ref: string): PinnedImage {
  if (!PinnedImageSchema.safeParse(ref).success) {
    throw new WorldloopError(
      'ERR_IMAGE_UNPINNED',
      `image ${JSON.stringify(ref.slice(0, 300))} is not pinned: expected <repository>@sha256:<64 hex>`,
    );
  }
  const at = ref.indexOf('@');
  const repository = ref.slice(0, at);
  const digest = ref.slice(at + 1);
  const slash = repository.indexOf('/');
  const first = slash === -1 ? '' : repository.slice(0, slash);
  const host = first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
  const path = host === undefined ? repository : repository.slice(slash + 1);
  // A tag next to the digest (`repo:tag@sha256:…`) reads as if the tag mattered; it never does. Refuse it.
  if (path.includes(':')) {
    throw new WorldloopError('ERR_IMAGE_UNPINNED', `image ${ref} carries a tag beside its digest; use the digest only`);
  }
  return { ref, repository, digest, host, path };
}

// ------------------------------------------------------------------------------------- result record

const TERMINATIONS = ['exited', 'timeout', 'cancelled', 'start_failed'] as const;
type Termination = (typeof TERMINATIONS)[number];

const ResultRecordSchema = z.strictObject({
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
type ResultRecord = z.infer<typeof ResultRecordSchema>;

const PreparedSchema = z.strictObject({ container_id: z.string() });

interface Layout {
  readonly workdir: string;
  readonly out: string;
  readonly inputs: string;
  readonly config: string;
  readonly prepared: string;
  readonly result: string;
  readonly secrets: string;
}

function layoutOf(args: InvokeArgs): Layout {
  const w = args.workdir.replace(/\/+$/, '') || '/';
  return {
    workdir: w,
    out: join(w, 'out'),
    inputs: join(w, 'inputs.json'),
    config: join(w, 'config.json'),
    prepared: join(w, 'prepared.json'),
    result: join(w, 'result.json'),
    secrets: join(dirname(w), `secrets-${args.execution_id}`),
  };
}

/**
 * The hardened container configuration for one execution (DESIGN.md §8). Exported so that a benchmark or
 * a person can run the same image under exactly the same constraints without the adapter around it.
 */
export function containerCreateOptions(
  a: InvokeArgs,
  runRef: string,
  egressNetwork = 'bridge',
): Dockerode.ContainerCreateOptions {
  const paths = layoutOf(a);
  const network = a.mode === 'real' && a.runtime.network === 'egress' ? egressNetwork : 'none';
  const memory = a.runtime.memory_mb * 1024 * 1024;
  const binds = [`${paths.workdir}:/work:ro`, `${paths.out}:/work/out:rw`];
  if (a.mode === 'real' && Object.keys(a.secrets).length > 0) binds.push(`${paths.secrets}:/run/secrets:ro`);
  const gpu = /^([a-z0-9-]+)(?::([1-8]))?$/.exec(a.runtime.gpu);
  return {
    name: containerName(a.execution_id),
    platform: `linux/${a.platform}`,
    Image: runRef,
    Cmd: [
      '--inputs',
      '@/work/inputs.json',
      '--write-prefix',
      a.write_prefix,
      '--execution-id',
      a.execution_id,
      '--mode',
      a.mode,
      '--out',
      '/work/out',
    ],
    User: CONTAINER_USER,
    Labels: {
      [LABELS.executionId]: a.execution_id,
      [LABELS.processorRef]: a.processor_ref,
      [LABELS.mode]: a.mode,
    },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: {
      NetworkMode: network,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': TMPFS_OPTIONS },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: a.runtime.pids,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(a.runtime.cpu * 1e9),
      Binds: binds,
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
      ...(gpu && gpu[1] !== 'none'
        ? { DeviceRequests: [{ Count: Number(gpu[2] ?? 1), Capabilities: [['gpu']] }] }
        : {}),
    },
  };
}

// ---------------------------------------------------------------------------------- engine errors

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
}

function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code);
}

/** Engine trouble is retryable (the activity will adopt the container); anything else is a bug to see. */
function engineError(err: unknown, what: string): WorldloopError {
  if (err instanceof WorldloopError) return err;
  const status = statusOf(err);
  const code: ErrorCode = isUnreachable(err) || (status ?? 0) >= 500 ? 'ERR_ADAPTER_UNAVAILABLE' : 'ERR_INTERNAL';
  return new WorldloopError(code, `docker ${what}: ${messageOf(err)}`, { cause: err });
}

async function ignoreStatus<T>(p: Promise<T>, ...statuses: number[]): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statuses.includes(statusOf(err) ?? -1)) return undefined;
    throw err;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `docker ${what}: no answer within ${ms} ms`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for `p` at most `ms`, without leaving a timer behind that keeps the process alive. */
async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

function isoOf(dockerTime: string | undefined): string | undefined {
  if (!dockerTime) return undefined;
  const ms = Date.parse(dockerTime);
  // Docker reports "0001-01-01T00:00:00Z" for times that never happened.
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

// ------------------------------------------------------------------------------------------- files

async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/**
 * Reads a file the processor wrote. It never follows a symlink (a processor could point one at any host
 * file, and we read as root) and refuses anything but a regular file of bounded size.
 */
async function readProcessorFile(path: string, maxBytes: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new Error(`${path} is a symlink`, { cause: err });
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    if (st.size > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`);
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

// -------------------------------------------------------------------------------------------- a run

type Inspect = Dockerode.ContainerInspectInfo;
type WaitResult = { ok: true; status: number } | { ok: false; error: unknown };
interface LogFollower {
  readonly done: Promise<boolean>;
  readonly stop: () => void;
}

class DockerRun {
  readonly #deps: DockerAdapterDeps;
  readonly #docker: Dockerode;
  readonly #raw: unknown;
  readonly #ctl: InvokeControl;
  #args!: InvokeArgs;
  #image!: PinnedImage;
  #paths!: Layout;
  #name = '';

  constructor(deps: DockerAdapterDeps, args: unknown, ctl: InvokeControl) {
    this.#deps = deps;
    this.#docker = deps.docker;
    this.#raw = args;
    this.#ctl = ctl;
  }

  async run(): Promise<InvokeOutcome> {
    this.#args = parseInvokeArgs(this.#raw);
    this.#image = parsePinnedImage(this.#args.image);
    if (this.#args.mode === 'mock' && Object.keys(this.#args.secrets).length > 0) {
      throw new WorldloopError(
        'ERR_SECRET_NOT_ALLOWED',
        `mock mode never receives secrets, but ${Object.keys(this.#args.secrets).sort().join(', ')} were passed`,
      );
    }
    this.#paths = layoutOf(this.#args);
    this.#name = containerName(this.#args.execution_id);

    const recorded = await this.#readRecorded();
    if (recorded) return this.#replay(recorded);

    await this.#ping();
    // Each pass either finishes the run or observes that the container vanished between two engine calls
    // (another attempt finalised it, or someone removed it); a few passes settle every such race.
    for (let pass = 0; pass < 5; pass++) {
      const found = await this.#inspect(this.#name);
      if (found) {
        this.#checkOwnership(found);
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
        return this.#finishWithoutContainer('cancelled', 'cancelled before the container started');
      }
      const runRef = await this.#ensureImage();
      const created = await this.#create(runRef);
      if (!created) continue; // lost the name to a concurrent attempt: adopt it on the next pass
      try {
        await this.#prepare(created.id);
      } catch (err) {
        await ignoreStatus(created.remove({ force: true }), 404, 409).catch(() => undefined);
        await this.#removeSecrets();
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
      const info = await this.#inspect(created.id);
      const outcome = info ? await this.#supervise(info, false) : undefined;
      if (outcome) return outcome;
    }
    const recordedLate = await this.#readRecorded();
    if (recordedLate) return this.#replay(recordedLate);
    throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `container ${this.#name} keeps disappearing; retry later`);
  }

  // ----------------------------------------------------------------------------------- engine calls

  async #ping(): Promise<void> {
    try {
      await withTimeout(this.#docker.ping(), 5_000, 'ping');
    } catch (err) {
      throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `the Docker engine does not answer: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }

  async #inspect(idOrName: string): Promise<Inspect | undefined> {
    try {
      return await ignoreStatus(this.#docker.getContainer(idOrName).inspect(), 404);
    } catch (err) {
      throw engineError(err, `inspect ${idOrName}`);
    }
  }

  #checkOwnership(info: Inspect): void {
    const label = info.Config.Labels?.[LABELS.executionId];
    if (label !== this.#args.execution_id) {
      throw new WorldloopError(
        'ERR_INTERNAL',
        `a container named ${this.#name} exists but is labelled for execution ${String(label)}; refusing to adopt it`,
      );
    }
  }

  /** Makes the pinned image present locally (pulling it by digest if needed) and returns the ref to run. */
  async #ensureImage(): Promise<string> {
    const img = this.#image;
    const mirror =
      this.#deps.pullRegistry && this.#deps.pullRegistry !== img.host
        ? `${this.#deps.pullRegistry}/${img.path}@${img.digest}`
        : undefined;
    for (const ref of mirror ? [img.ref, mirror] : [img.ref]) {
      const info = await this.#inspectImage(ref);
      if (info) return this.#checkPlatform(ref, info);
    }
    const pullRef = mirror ?? img.ref;
    this.#heartbeat({ phase: 'pulling', image: pullRef });
    try {
      const stream = await this.#docker.pull(pullRef, { platform: `linux/${this.#args.platform}` });
      await new Promise<void>((resolve, reject) => {
        this.#docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
      });
    } catch (err) {
      if (isUnreachable(err)) throw engineError(err, `pull ${pullRef}`);
      throw new WorldloopError('ERR_OCI', `pulling ${pullRef} failed: ${messageOf(err)}`, { cause: err });
    }
    const info = await this.#inspectImage(pullRef);
    if (!info) throw new WorldloopError('ERR_OCI', `pulled ${pullRef} but the engine does not list it`);
    return this.#checkPlatform(pullRef, info);
  }

  async #inspectImage(ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
    try {
      return await ignoreStatus(this.#docker.getImage(ref).inspect(), 404);
    } catch (err) {
      throw engineError(err, `image inspect ${ref}`);
    }
  }

  #checkPlatform(ref: string, info: Dockerode.ImageInspectInfo): string {
    if (info.Architecture !== this.#args.platform || (info.Os && info.Os !== 'linux')) {
      throw new WorldloopError(
        'ERR_IMAGE_UNPINNED',
        `image ${ref} is ${info.Os}/${info.Architecture}, but the pin is for linux/${this.#args.platform}`,
      );
    }
    return ref;
  }

  /** Creates the container; undefined when the name is already taken (a concurrent attempt won). */
  async #create(runRef: string): Promise<Dockerode.Container | undefined> {
    const opts = containerCreateOptions(this.#args, runRef, this.#deps.egressNetwork);
    const network = opts.HostConfig?.NetworkMode ?? 'none';
    if (network !== 'none') await this.#checkNetwork(network);
    try {
      return await this.#docker.createContainer(opts);
    } catch (err) {
      if (statusOf(err) === 409) return undefined;
      throw engineError(err, `create ${this.#name}`);
    }
  }

  /**
   * A dockerd started with `--bridge=none` (the reference dev machine) has no `bridge` network, yet still
   * accepts NetworkMode "bridge" and starts the container with no network at all: the provider call would
   * then fail deep inside the processor. Refuse up front, with the fix, instead.
   */
  async #checkNetwork(network: string): Promise<void> {
    let found;
    try {
      found = await ignoreStatus(this.#docker.getNetwork(network).inspect(), 404);
    } catch (err) {
      throw engineError(err, `network inspect ${network}`);
    }
    if (!found) {
      throw new WorldloopError(
        'ERR_ADAPTER_UNAVAILABLE',
        `this real-mode run needs egress, but the Docker engine has no network ${JSON.stringify(network)} (dockerd runs with --bridge=none?); create one (docker network create <name>) and configure it as the adapter's egressNetwork`,
      );
    }
  }

  // ----------------------------------------------------------------------------------- host files

  #hasSecrets(): boolean {
    return this.#args.mode === 'real' && Object.keys(this.#args.secrets).length > 0;
  }

  async #giveToContainerUser(path: string, fallbackMode: number | undefined): Promise<void> {
    try {
      await chown(path, CONTAINER_UID, CONTAINER_UID);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM' || fallbackMode === undefined) throw err;
      // Not root: we cannot hand the folder to uid 65532, so let everyone write it instead. Outputs are
      // still verified by Settle; only the ownership on this host is weaker.
      await chmod(path, fallbackMode);
      this.#deps.logger?.warn(
        { execution_id: this.#args.execution_id, path },
        `cannot chown ${path} to ${CONTAINER_USER} (not root); made it mode ${fallbackMode.toString(8)} so the container user can write it — run the worker as root for strict ownership`,
      );
    }
  }

  /** Writes inputs, config, a fresh out/ and (real mode) secrets, then marks them as prepared for `containerId`. */
  async #prepare(containerId: string): Promise<void> {
    const p = this.#paths;
    await mkdir(p.workdir, { recursive: true });
    // Readable by the container user, writable only by us: the container cannot touch result.json.
    await chmod(p.workdir, 0o755);
    await rm(p.out, { recursive: true, force: true });
    await mkdir(p.out, { mode: 0o755 });
    await this.#giveToContainerUser(p.out, 0o777);
    await writeFileAtomic(p.inputs, JSON.stringify(this.#args.inputs), 0o644);
    if (this.#args.config) await writeFileAtomic(p.config, JSON.stringify(this.#args.config), 0o644);
    else await rm(p.config, { force: true });
    if (this.#hasSecrets()) await this.#writeSecrets();
    await writeFileAtomic(p.prepared, JSON.stringify({ container_id: containerId }), 0o644);
  }

  async #writeSecrets(): Promise<void> {
    const dir = this.#paths.secrets;
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { mode: 0o700 });
    try {
      await chown(dir, CONTAINER_UID, CONTAINER_UID);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code === 'EPERM') {
        throw new WorldloopError(
          'ERR_ADAPTER_UNAVAILABLE',
          `cannot hand secret files to the container user ${CONTAINER_USER} without root (chown ${dir}: EPERM); run the worker as root, or use an adapter that injects secrets itself`,
        );
      }
      throw err;
    }
    for (const [name, value] of Object.entries(this.#args.secrets)) {
      const file = join(dir, name);
      await writeFile(file, value, { mode: 0o400, flag: 'wx' });
      await chown(file, CONTAINER_UID, CONTAINER_UID);
    }
    await chmod(dir, 0o500);
  }

  async #removeSecrets(): Promise<void> {
    await rm(this.#paths.secrets, { recursive: true, force: true });
  }

  async #preparedFor(): Promise<string | undefined> {
    try {
      const parsed = PreparedSchema.safeParse(JSON.parse(await readFile(this.#paths.prepared, 'utf8')));
      return parsed.success ? parsed.data.container_id : undefined;
    } catch {
      return undefined;
    }
  }

  async #readRecorded(): Promise<ResultRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.#paths.result, 'utf8');
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
    if (!parsed?.success || parsed.data.execution_id !== this.#args.execution_id) {
      throw new WorldloopError(
        'ERR_INTERNAL',
        `${this.#paths.result} exists but is not a result record of execution ${this.#args.execution_id}; inspect it before retrying`,
      );
    }
    return parsed.data;
  }

  async #replay(record: ResultRecord): Promise<InvokeOutcome> {
    // A crash between writing the record and removing the container leaves both; finish the clean-up.
    try {
      const left = await this.#inspect(this.#name);
      if (left?.Config.Labels?.[LABELS.executionId] === this.#args.execution_id) {
        await ignoreStatus(this.#docker.getContainer(left.Id).remove({ force: true }), 404, 409);
      }
    } catch {
      // The engine being away does not change a recorded outcome.
    }
    await this.#removeSecrets();
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

  // ---------------------------------------------------------------------------------- supervision

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
      current = await this.#inspect(info.Id);
      if (!current) return undefined;
    }
    this.#heartbeat({ phase: 'running', container: this.#name, adopted });

    const tail = new LogTail();
    const follow = this.#followLogs(container, tail);
    let termination: Termination = 'exited';
    if (current.State.Running || current.State.Paused || current.State.Restarting) {
      try {
        termination = await this.#waitForExit(container, current);
      } catch (err) {
        follow.stop();
        throw err;
      }
    }
    const collected = await this.#collectTail(container, follow, tail);
    const final = await this.#inspect(info.Id);
    if (!final) {
      const recorded = await this.#readRecorded();
      return recorded ? this.#outcome(recorded, true) : undefined;
    }
    // Another attempt (or one that died before recording it) killed the container at its deadline: that
    // is a timeout, not a processor that chose to exit 137.
    if (termination === 'exited' && this.#looksTimedOut(final)) termination = 'timeout';
    return this.#finalise(container, final, termination, collected, adopted);
  }

  async #waitPrepared(containerId: string): Promise<string | undefined> {
    const until = Date.now() + (this.#deps.preparedWaitMs ?? 10_000);
    for (;;) {
      const id = await this.#preparedFor();
      if (id === containerId || Date.now() >= until) return id;
      await sleep(100);
    }
  }

  #looksTimedOut(info: Inspect): boolean {
    const started = Date.parse(info.State.StartedAt);
    const finished = Date.parse(info.State.FinishedAt);
    return (
      info.State.ExitCode === 137 &&
      !info.State.OOMKilled &&
      Number.isFinite(started) &&
      Number.isFinite(finished) &&
      finished - started >= this.#args.runtime.timeout_s * 1000
    );
  }

  /**
   * Demultiplexes the container's log stream into a bounded stderr tail. `done` resolves true when the
   * stream ended by itself, false if it failed; `stop` drops it.
   */
  #followLogs(container: Dockerode.Container, tail: LogTail): LogFollower {
    let stream: NodeJS.ReadableStream | undefined;
    let stopped = false;
    const done = new Promise<boolean>((resolve) => {
      container.logs({ follow: true, stdout: true, stderr: true }).then(
        (s) => {
          stream = s;
          if (stopped) return destroy(s);
          this.#docker.modem.demuxStream(s, new LogTail(256, 1).sink(), tail.sink());
          s.on('end', () => resolve(true));
          s.on('close', () => resolve(true));
          s.on('error', () => resolve(false));
        },
        // Logs are diagnostics: a container removed under us or a log driver without read support only
        // costs the tail, never the run.
        () => resolve(false),
      );
    });
    const destroy = (s: NodeJS.ReadableStream) => (s as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    return {
      done,
      stop: () => {
        stopped = true;
        if (stream) destroy(stream);
      },
    };
  }

  /**
   * The stderr tail once the container has exited: the followed stream when it ended in time, else (a
   * loaded engine can be slow to close a follower) the engine's own last lines, fetched once.
   */
  async #collectTail(container: Dockerode.Container, follow: LogFollower, tail: LogTail) {
    let ended = false;
    await atMost(
      follow.done.then((ok) => (ended = ok)),
      5_000,
    );
    if (ended) return tail;
    follow.stop();
    try {
      const buf = (await container.logs({
        follow: false,
        stdout: false,
        stderr: true,
        tail: TAIL_MAX_LINES + 1,
      })) as unknown;
      const fresh = new LogTail();
      if (Buffer.isBuffer(buf)) demuxBuffer(buf, (chunk) => fresh.push(chunk));
      return fresh.totalBytes > 0 ? fresh : tail;
    } catch {
      return tail;
    }
  }

  async #waitForExit(container: Dockerode.Container, info: Inspect): Promise<Termination> {
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
      ]);
      if (typeof reason === 'object') {
        if (!reason.ok) throw engineError(reason.error, `wait ${this.#name}`);
        return 'exited';
      }
      if (reason === 'cancelled') this.#throwIfDetaching();
      try {
        await ignoreStatus(container.kill(), 404, 409);
      } catch (err) {
        throw engineError(err, `kill ${this.#name}`);
      }
      const after = await withTimeout(waited, 15_000, `wait ${this.#name} after kill`);
      if (!after.ok && statusOf(after.error) !== 404) throw engineError(after.error, `wait ${this.#name}`);
      return reason;
    } finally {
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
    const envelope = await this.#envelope(
      termination,
      exit_code,
      info.State.OOMKilled,
      stderr_tail,
      started_at,
      finished_at,
      detail,
    );
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
    await writeFileAtomic(this.#paths.result, JSON.stringify(record), 0o644);
    try {
      await ignoreStatus(container.remove({ force: true }), 404, 409);
    } catch (err) {
      // The outcome is recorded; a container left behind is removed by the next attempt or by hand.
      this.#deps.logger?.warn(
        { execution_id: this.#args.execution_id, container: this.#name, err: messageOf(err) },
        'container removal failed',
      );
    }
    await this.#removeSecrets();
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
  async #finishWithoutContainer(termination: 'cancelled', detail: string): Promise<InvokeOutcome> {
    const now = new Date().toISOString();
    const envelope: Envelope = {
      status: 'error',
      execution_id: this.#args.execution_id,
      error: { code: 'ERR_CANCELLED', message: detail },
      meta: this.#meta(now, now, 0),
    };
    const record: ResultRecord = {
      result_schema: 'worldloop.docker-result/v1',
      execution_id: this.#args.execution_id,
      container_id: null,
      termination,
      exit_code: null,
      started_at: now,
      finished_at: now,
      stderr_tail: '',
      envelope,
    };
    await mkdir(this.#paths.workdir, { recursive: true });
    await writeFileAtomic(this.#paths.result, JSON.stringify(record), 0o644);
    await this.#removeSecrets();
    return this.#outcome(record, false);
  }

  #redact(text: string): string {
    let out = text;
    // The run's own secret values first (longest first, so one value containing another goes whole).
    const values = Object.values(this.#args.secrets)
      .filter((v) => v.length > 0)
      .sort((x, y) => y.length - x.length);
    for (const v of values) out = out.split(v).join('[REDACTED]');
    return this.#deps.redact ? this.#deps.redact(out) : out;
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

  async #costMicro(): Promise<number> {
    try {
      const text = await readProcessorFile(join(this.#paths.out, 'receipt.json'), 1024 * 1024);
      if (text === undefined) return 0;
      const cost = (JSON.parse(text) as { cost_micro?: unknown } | null)?.cost_micro;
      return typeof cost === 'number' && Number.isSafeInteger(cost) && cost >= 0 ? cost : 0;
    } catch {
      // A missing or malformed processor receipt costs nothing here; Settle reports it.
      return 0;
    }
  }

  async #envelope(
    termination: Termination,
    exitCode: number | null,
    oomKilled: boolean,
    stderrTail: string,
    started_at: string,
    finished_at: string,
    detail: string,
  ): Promise<Envelope> {
    const a = this.#args;
    const meta = this.#meta(started_at, finished_at, await this.#costMicro());
    const tailSuffix = stderrTail ? `; stderr tail:\n${stderrTail}` : '';
    const error = (code: ErrorCode, message: string): Envelope => ({
      status: 'error',
      execution_id: a.execution_id,
      error: { code, message },
      meta,
    });
    switch (termination) {
      case 'timeout':
        return error(
          'ERR_TIMEOUT',
          `processor did not finish within ${a.runtime.timeout_s} s; container ${this.#name} was killed and removed${tailSuffix}`,
        );
      case 'cancelled':
        return error('ERR_CANCELLED', `run cancelled; container ${this.#name} was killed and removed${tailSuffix}`);
      case 'start_failed':
        return error('ERR_PROCESSOR_FAILED', `processor container did not start: ${this.#redact(detail)}${tailSuffix}`);
      case 'exited':
        break;
      default:
        return assertNever(termination);
    }
    if (exitCode !== 0) {
      const why = oomKilled
        ? `was killed for exceeding its memory limit of ${a.runtime.memory_mb} MiB (exit code ${String(exitCode)})`
        : `exited with code ${String(exitCode)}`;
      return error('ERR_PROCESSOR_FAILED', `processor ${why}${tailSuffix}`);
    }
    let index;
    try {
      const text = await readProcessorFile(join(this.#paths.out, 'outputs.json'), 64 * 1024 * 1024);
      if (text === undefined) return error('ERR_OUTPUT_INVALID', 'processor exited 0 but wrote no outputs.json');
      const parsed = OutputsIndexSchema.safeParse(JSON.parse(text));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return error(
          'ERR_OUTPUT_INVALID',
          `outputs.json does not match the schema at ${issue.path.join('.')}: ${issue.message}`,
        );
      }
      index = parsed.data;
    } catch (err) {
      return error('ERR_OUTPUT_INVALID', `outputs.json cannot be read: ${messageOf(err)}`);
    }
    const prefix = a.write_prefix.endsWith('/') ? a.write_prefix : `${a.write_prefix}/`;
    // Claims, not facts: Settle verifies every one of them against the files.
    const outputs = index.outputs
      .map((o) => (o.path.startsWith('world://') ? o.path : `${prefix}${o.path.replace(/^\/+/, '')}`))
      .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    return {
      status: 'success',
      execution_id: a.execution_id,
      outputs,
      index_path: `${prefix}outputs.json`,
      meta,
    };
  }
}
