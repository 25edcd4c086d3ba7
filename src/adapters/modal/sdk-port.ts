// The one real ModalPort: the official SDK (modal@0.11.1) around the worker's one ModalClient. Every call
// runs under withDeadline, so a call that never settles becomes ERR_ADAPTER_UNAVAILABLE instead of a hung
// activity, and every failure is mapped to a catalogue code at the stage it happened.
//
// Sandboxes are V2 (the SDK's default): created with SandboxCreateV2, commands run through the task
// command router (TaskExecStart, TaskExecStdinWrite, TaskExecStdioRead, TaskExecWait), always in binary
// mode and never with a PTY, so the tar of /work/out comes back byte for byte.
import type { App, ContainerProcess, Image, ModalClient, Sandbox, Secret } from 'modal';
import { WorldloopError } from '../../contracts/errors';
import type { ModalControlPlane } from './control-plane';
import { toModalError, withDeadline, type ModalStage } from './errors';
import type {
  AppRef,
  ExecHandle,
  ExecOptions,
  ImageRef,
  ModalPort,
  SandboxHandle,
  SandboxSpec,
  SecretRef,
} from './port';

export interface SdkPortOptions {
  /** Deadline of each short SDK call (create, exec start, terminate…), ms. */
  readonly callDeadlineMs: number;
  /** How long to wait for a terminated sandbox to report that it stopped, ms. */
  readonly stopDeadlineMs: number;
}

/** Bytes per stdin write: artifact inputs can be large, one gRPC message may not. */
const STDIN_CHUNK_BYTES = 1024 * 1024;

/** A stream the SDK hands out, read as an async iterable of byte chunks. */
async function* bytesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export class SdkModalPort implements ModalPort {
  readonly #client: ModalClient;
  readonly #plane: ModalControlPlane;
  readonly #opts: SdkPortOptions;
  /** The SDK objects behind the plain refs the run logic holds. */
  readonly #apps = new Map<string, App>();
  readonly #images = new Map<string, Image>();
  readonly #secrets = new Map<string, Secret>();

  constructor(client: ModalClient, plane: ModalControlPlane, opts: SdkPortOptions) {
    this.#client = client;
    this.#plane = plane;
    this.#opts = opts;
  }

  #call<T>(stage: ModalStage, call: () => Promise<T>): Promise<T> {
    return withDeadline(stage, this.#opts.callDeadlineMs, call);
  }

  async app(name: string): Promise<AppRef> {
    const app = await this.#plane.app(name);
    this.#apps.set(app.appId, app);
    return { appId: app.appId };
  }

  async image(app: AppRef, ref: string, pullSecret?: string): Promise<ImageRef> {
    const image = await this.#plane.image(this.#app(app), ref, pullSecret);
    this.#images.set(image.imageId, image);
    return { imageId: image.imageId };
  }

  async secrets(names: readonly string[]): Promise<SecretRef[]> {
    const out: SecretRef[] = [];
    for (const name of names) {
      const secret = await this.#call('secret', () => this.#client.secrets.fromName(name));
      this.#secrets.set(secret.secretId, secret);
      out.push({ secretId: secret.secretId });
    }
    return out;
  }

  async findSandboxes(app: AppRef, tags: Readonly<Record<string, string>>): Promise<SandboxHandle[]> {
    const found = await this.#call('sandbox', async () => {
      const list: Sandbox[] = [];
      for await (const sb of this.#client.sandboxes.list({ appId: app.appId, tags: { ...tags } })) list.push(sb);
      return list;
    });
    return found.map((sb) => this.#handle(sb));
  }

  async createSandbox(app: AppRef, image: ImageRef, spec: SandboxSpec): Promise<SandboxHandle> {
    const img = this.#images.get(image.imageId);
    if (!img) throw new WorldloopError('ERR_INVARIANT', `image ${image.imageId} was not built by this port`);
    const sb = await this.#call('sandbox', () =>
      this.#client.sandboxes.create(this.#app(app), img, {
        command: [...spec.command],
        cpu: spec.cpu,
        memoryMiB: spec.memoryMiB,
        timeoutMs: spec.timeoutMs,
        blockNetwork: spec.blockNetwork,
        tags: { ...spec.tags },
        name: spec.name,
      }),
    );
    return this.#handle(sb);
  }

  #app(app: AppRef): App {
    const found = this.#apps.get(app.appId);
    if (!found) throw new WorldloopError('ERR_INVARIANT', `app ${app.appId} was not looked up by this port`);
    return found;
  }

  #secretsOf(refs: readonly SecretRef[]): Secret[] {
    return refs.map((s) => {
      const secret = this.#secrets.get(s.secretId);
      if (!secret) throw new WorldloopError('ERR_INVARIANT', `secret ${s.secretId} was not looked up by this port`);
      return secret;
    });
  }

  #handle(sb: Sandbox): SandboxHandle {
    const call = <T>(stage: ModalStage, f: () => Promise<T>): Promise<T> => this.#call(stage, f);
    const stopDeadlineMs = this.#opts.stopDeadlineMs;
    const secretsOf = (refs: readonly SecretRef[]): Secret[] => this.#secretsOf(refs);
    return {
      sandboxId: sb.sandboxId,
      async exec(command: readonly string[], opts: ExecOptions): Promise<ExecHandle> {
        const secrets = secretsOf(opts.secrets ?? []);
        const proc: ContainerProcess<Uint8Array> = await call('exec', () =>
          sb.exec([...command], {
            mode: 'binary',
            stdout: opts.stdout,
            stderr: opts.stderr,
            ...(secrets.length > 0 ? { secrets } : {}),
          }),
        );
        if (opts.stdin !== undefined) {
          const writer = proc.stdin.getWriter();
          const data = opts.stdin;
          await call('exec', async () => {
            // One write per chunk: each becomes one TaskExecStdinWrite, under gRPC's 4 MiB message limit.
            for (let at = 0; at < data.length; at += STDIN_CHUNK_BYTES)
              await writer.write(data.subarray(at, at + STDIN_CHUNK_BYTES));
            await writer.close();
          });
        }
        return {
          stdout: bytesOf(proc.stdout),
          stderr: bytesOf(proc.stderr),
          // No deadline here: the run logic races it against the processor's own timeout and the cancel.
          wait: () =>
            proc.wait().catch((err: unknown) => {
              throw toModalError(err, 'exec');
            }),
        };
      },
      terminate: () => call('terminate', () => sb.terminate()).then(() => undefined),
      wait: () => withDeadline('terminate', stopDeadlineMs, () => sb.wait()),
      detach: () => sb.detach(),
    };
  }
}
