// The Modal adapter's run logic (src/adapters/modal/sandbox-run.ts) against an in-memory ModalPort: every
// error mapping the run itself makes, adoption of an earlier attempt's sandbox, timeout, cancel, and
// "terminate in every outcome". The sandbox's /work/out is a local folder, and /work/out comes back through
// the real collect program (node -e, the same text the sandbox runs), so the tar path is the real one.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvokeArgs } from '../../src/adapters/adapter';
import { containerCreateOptions } from '../../src/adapters/docker/container-spec';
import {
  EXECUTION_TAG,
  PROCESSOR_ENTRYPOINT,
  collectCommand,
  createModalAdapter,
  processorCommand,
  type ExecHandle,
  type ExecOptions,
  type ModalPort,
  type SandboxHandle,
  type SandboxSpec,
} from '../../src/adapters/modal';
import { ENTRYPOINT } from '../../src/build/image-builder';
import { WorldloopError } from '../../src/contracts/errors';
import { DEFAULT_OUTPUT_LIMITS } from '../../src/contracts/schemas';
import { codeOf } from './helpers/expect-code';
import { SMALL_RUNTIME } from '../fixtures/small-runtime';

const EXECUTION_ID = '019ac1f0-0000-7000-8000-0000000000aa';
const IMAGE = `127.0.0.1:5000/worldloop/text-stats@sha256:${'ab'.repeat(32)}`;

function args(over: Partial<InvokeArgs> = {}): InvokeArgs {
  return {
    execution_id: EXECUTION_ID,
    processor_ref: 'text/stats@1',
    image: IMAGE,
    platform: 'amd64',
    mode: 'mock',
    inputs: { text: 'hello' },
    write_prefix: `world://artifacts/text-stats/${EXECUTION_ID}/`,
    runtime: SMALL_RUNTIME,
    secrets: {},
    env_fingerprint: 'adapter=modal',
    workdir: mkdtempSync(join(tmpdir(), 'wl-modal-unit-')),
    ...over,
  };
}

/** What the "processor" does in the sandbox's /work/out; resolves with its exit code. */
type Processor = (out: string, stderr: (line: string) => void) => Promise<number>;

const HEX = 'a'.repeat(64);
const writesStats: Processor = (out, stderr) => {
  mkdirSync(join(out, 'outputs'), { recursive: true });
  writeFileSync(join(out, 'outputs', 'stats.json'), '{"bytes":5}');
  const entry = { path: 'outputs/stats.json', size_bytes: 11, blake3: HEX, sha256: HEX, mime: 'application/json' };
  writeFileSync(join(out, 'outputs.json'), JSON.stringify({ outputs: [entry] }));
  writeFileSync(join(out, 'receipt.json'), JSON.stringify({ cost_micro: 7 }));
  stderr('{"event":"execution.settle"}');
  return Promise.resolve(0);
};

async function* once(text: string): AsyncGenerator<Uint8Array> {
  if (text) yield Buffer.from(text);
}

/** An in-memory Modal: records every operation, runs the collect program for real on a local folder. */
class MemoryModal implements ModalPort {
  readonly ops: string[] = [];
  readonly sandboxes: MemorySandbox[] = [];
  readonly leftOver: MemorySandbox[] = [];
  failAt: { op: string; error: Error } | undefined;
  /** The prepare step's exit code (3: a secret's key missing from its environment). */
  prepareExit = 0;

  constructor(readonly processor: Processor) {}

  #op(op: string): void {
    this.ops.push(op);
    if (this.failAt?.op === op) throw this.failAt.error;
  }

  app(name: string) {
    this.#op(`app ${name}`);
    return Promise.resolve({ appId: 'ap-1' });
  }
  image(_app: unknown, ref: string) {
    this.#op(`image ${ref}`);
    return Promise.resolve({ imageId: 'im-1' });
  }
  secrets(names: readonly string[]) {
    this.#op(`secrets ${names.join(',')}`);
    return Promise.resolve(names.map((n) => ({ secretId: `st-${n}` })));
  }
  findSandboxes(_app: unknown, tags: Readonly<Record<string, string>>) {
    this.#op(`find ${JSON.stringify(tags)}`);
    return Promise.resolve(this.leftOver.filter((s) => !s.stopped));
  }
  createSandbox(_app: unknown, _image: unknown, spec: SandboxSpec) {
    this.#op('create');
    const running = [...this.sandboxes, ...this.leftOver].filter((s) => !s.stopped);
    if (running.length > 0) throw new Error('two sandboxes for one execution');
    const sb = new MemorySandbox(`sb-${this.sandboxes.length + 1}`, spec, this);
    this.sandboxes.push(sb);
    return Promise.resolve(sb);
  }
}

class MemorySandbox implements SandboxHandle {
  readonly out = mkdtempSync(join(tmpdir(), 'wl-modal-sandbox-'));
  stopped = false;
  detached = false;
  stdin = '';
  prepareSecrets: unknown;
  #stop!: () => void;
  readonly #stoppedPromise = new Promise<void>((resolve) => (this.#stop = resolve));

  constructor(
    readonly sandboxId: string,
    readonly spec: SandboxSpec,
    readonly modal: MemoryModal,
  ) {}

  exec(command: readonly string[], opts: ExecOptions): Promise<ExecHandle> {
    if (this.stopped) return Promise.reject(new Error('sandbox has finished'));
    this.modal.ops.push(
      `exec ${command[1] === '/app/main.js' ? 'processor' : command.at(-1) === '/work/out' ? 'collect' : 'prepare'}`,
    );
    if (command[1] === '/app/main.js') return Promise.resolve(this.#processor());
    if (command.at(-1) === '/work/out') return Promise.resolve(this.#collect());
    this.stdin = Buffer.from(opts.stdin ?? []).toString();
    this.prepareSecrets = opts.secrets;
    const code = this.modal.prepareExit;
    return Promise.resolve({
      stdout: once(''),
      stderr: once(code === 0 ? '' : 'the environment has no OPENAI_API_KEY\n'),
      wait: () => Promise.resolve(code),
    });
  }

  #processor(): ExecHandle {
    const lines: string[] = [];
    const code = this.modal.processor(this.out, (l) => lines.push(l));
    // The processor's stderr ends when it exits, or when the sandbox is stopped under it.
    const ended = Promise.race([code.then(() => undefined), this.#stoppedPromise]);
    return {
      stdout: once(''),
      stderr: (async function* () {
        await ended;
        yield Buffer.from(lines.map((l) => `${l}\n`).join(''));
      })(),
      wait: () => code,
    };
  }

  /** How the collect step ended, its exit and stderr: what a failed assertion prints, for a rare early end. */
  collected = '';

  #collect(): ExecHandle {
    const [node, flag, script] = collectCommand();
    const child = spawn(node === '/usr/bin/node' ? process.execPath : node!, [flag!, script!, this.out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (err) => (this.collected += `spawn error ${err.message}; `));
    const exited = new Promise<number>((resolve) =>
      child.on('close', (c, signal) => {
        this.collected += `exit ${c} signal ${signal} stderr ${JSON.stringify(stderr)}`;
        resolve(c ?? 1);
      }),
    );
    return { stdout: child.stdout, stderr: once(''), wait: () => exited };
  }

  terminate(): Promise<void> {
    this.modal.ops.push(`terminate ${this.sandboxId}`);
    this.stopped = true;
    this.#stop();
    return Promise.resolve();
  }
  wait(): Promise<number | null> {
    this.modal.ops.push(`wait ${this.sandboxId}`);
    return this.#stoppedPromise.then(() => 137);
  }
  detach(): void {
    this.detached = true;
  }
}

function adapterOf(modal: MemoryModal) {
  return createModalAdapter({ port: modal, appOwner: { ci: true }, heartbeatMs: 50 });
}

describe('the Modal adapter’s run', () => {
  it('runs one tagged sandbox, prepares /work, brings /work/out back and terminates it', async () => {
    const modal = new MemoryModal(writesStats);
    const a = args();
    const beats: unknown[] = [];
    const outcome = await adapterOf(modal).invoke(a, { heartbeat: (d) => beats.push(d) });
    expect(outcome.envelope).toMatchObject({
      status: 'success',
      outputs: [`${a.write_prefix}outputs/stats.json`],
      meta: { adapter: 'modal', cost_micro: 7, modal_app: 'text-stats-v1', modal_sandbox: 'sb-1' },
    });
    expect(outcome.exit_code).toBe(0);
    expect(modal.ops).toEqual([
      'app text-stats-v1',
      `image ${IMAGE}`,
      `find {"${EXECUTION_TAG}":"${EXECUTION_ID}"}`,
      'create',
      'exec prepare',
      'exec processor',
      'exec collect',
      'terminate sb-1',
      'wait sb-1',
    ]);
    const sb = modal.sandboxes[0]!;
    expect(sb.spec).toMatchObject({
      cpu: 0.5,
      memoryMiB: 128,
      timeoutMs: 150_000,
      blockNetwork: true,
      tags: { [EXECUTION_TAG]: EXECUTION_ID },
      name: `wl-${EXECUTION_ID}`,
    });
    expect(sb.detached).toBe(true);
    expect(sb.spec).not.toHaveProperty('secrets');
    expect(JSON.parse(sb.stdin)).toEqual({
      dirs: ['/work/out'],
      files: [['/work/inputs.json', '{"text":"hello"}']],
      blobs: [],
      secrets: [],
      secretsDir: '/work/secrets',
    });
    expect(sb.prepareSecrets).toEqual([]);
    expect(await readFile(join(a.workdir, 'out', 'outputs', 'stats.json'), 'utf8')).toBe('{"bytes":5}');
    expect(beats).toContainEqual(expect.objectContaining({ phase: 'creating sandbox' }));
  });

  it('mock mode looks up no secret and blocks the network even for an egress runtime', async () => {
    const modal = new MemoryModal(writesStats);
    const a = args({ runtime: { ...args().runtime, network: 'egress' } });
    await adapterOf(modal).invoke(a);
    expect(modal.ops.some((o) => o.startsWith('secrets'))).toBe(false);
    expect(modal.sandboxes[0]!.spec.blockNetwork).toBe(true);
  });

  it('real mode sends the named secrets (names only) and opens the network only for egress', async () => {
    const modal = new MemoryModal(writesStats);
    const a = args({
      mode: 'real',
      secrets: { OPENAI_API_KEY: 'sk-value' },
      runtime: { ...args().runtime, network: 'egress' },
    });
    await adapterOf(modal).invoke(a);
    expect(modal.ops).toContain('secrets OPENAI_API_KEY');
    const sb = modal.sandboxes[0]!;
    expect(sb.spec).toMatchObject({ blockNetwork: false });
    // The secret is the prepare command's environment only: not the sandbox's, not the processor's.
    expect(sb.spec).not.toHaveProperty('secrets');
    expect(sb.prepareSecrets).toEqual([{ secretId: 'st-OPENAI_API_KEY' }]);
    expect(JSON.parse(sb.stdin)).toMatchObject({ secrets: ['OPENAI_API_KEY'], secretsDir: '/work/secrets' });
    expect(sb.stdin).not.toContain('sk-value');
  });

  it('a Modal secret without the key of its name: ERR_MISSING_SECRET from prepare, sandbox terminated', async () => {
    const modal = new MemoryModal(writesStats);
    modal.prepareExit = 3;
    const a = args({ mode: 'real', secrets: { OPENAI_API_KEY: 'sk-value' } });
    expect(await codeOf(adapterOf(modal).invoke(a))).toBe('ERR_MISSING_SECRET');
    expect(modal.ops).not.toContain('exec processor');
    expect(modal.ops.slice(-2)).toEqual(['terminate sb-1', 'wait sb-1']);
  });

  it('mock mode with a secret value passed: ERR_SECRET_NOT_ALLOWED before anything is called', async () => {
    const modal = new MemoryModal(writesStats);
    expect(await codeOf(adapterOf(modal).invoke(args({ secrets: { OPENAI_API_KEY: 'x' } })))).toBe(
      'ERR_SECRET_NOT_ALLOWED',
    );
    expect(modal.ops).toEqual([]);
  });

  it('a tag instead of a digest: ERR_IMAGE_UNPINNED before anything is called', async () => {
    const modal = new MemoryModal(writesStats);
    expect(await codeOf(adapterOf(modal).invoke(args({ image: '127.0.0.1:5000/x:latest' })))).toBe(
      'ERR_IMAGE_UNPINNED',
    );
    expect(modal.ops).toEqual([]);
  });

  it.each([
    ['app', 'ERR_ADAPTER_AUTH'],
    ['app', 'ERR_ADAPTER_UNAVAILABLE'],
    ['image', 'ERR_IMAGE_PULL'],
    ['create', 'ERR_ADAPTER_QUOTA'],
  ] as const)('a coded failure at %s (%s) is the run’s failure, and no sandbox is left', async (op, code) => {
    const modal = new MemoryModal(writesStats);
    modal.failAt = {
      op: op === 'image' ? `image ${IMAGE}` : op === 'app' ? 'app text-stats-v1' : op,
      error: new WorldloopError(code, 'x'),
    };
    expect(await codeOf(adapterOf(modal).invoke(args()))).toBe(code);
    expect(modal.sandboxes).toEqual([]);
  });

  it('a processor secret Modal does not hold: ERR_MISSING_SECRET before any sandbox is created', async () => {
    const modal = new MemoryModal(writesStats);
    modal.failAt = { op: 'secrets OPENAI_API_KEY', error: new WorldloopError('ERR_MISSING_SECRET', 'not found') };
    expect(await codeOf(adapterOf(modal).invoke(args({ mode: 'real', secrets: { OPENAI_API_KEY: 'v' } })))).toBe(
      'ERR_MISSING_SECRET',
    );
    expect(modal.ops).not.toContain('create');
  });

  it('a retry terminates the sandbox an earlier attempt left running, then runs exactly one', async () => {
    const modal = new MemoryModal(writesStats);
    const earlier = new MemorySandbox('sb-old', {} as SandboxSpec, modal);
    modal.leftOver.push(earlier);
    const outcome = await adapterOf(modal).invoke(args());
    expect(outcome.envelope.status).toBe('success');
    expect(modal.ops.slice(2, 6)).toEqual([
      `find {"${EXECUTION_TAG}":"${EXECUTION_ID}"}`,
      'terminate sb-old',
      'wait sb-old',
      'create',
    ]);
    expect(earlier.detached).toBe(true);
  });

  it('timeout: our own clock passes runtime.timeout_s → ERR_TIMEOUT, the sandbox terminated, no exit code', async () => {
    const modal = new MemoryModal(() => new Promise<number>(() => undefined));
    const started = Date.now();
    const outcome = await adapterOf(modal).invoke(args({ runtime: { ...args().runtime, timeout_s: 1 } }));
    expect(outcome.envelope).toMatchObject({ status: 'error', error: { code: 'ERR_TIMEOUT' } });
    expect(outcome.exit_code).toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(modal.ops).toContain('terminate sb-1');
    expect(modal.ops).not.toContain('exec collect');
  });

  it('cancel: ERR_CANCELLED, and the sandbox is terminated before invoke returns', async () => {
    const modal = new MemoryModal(() => new Promise<number>(() => undefined));
    const abort = new AbortController();
    const pending = adapterOf(modal).invoke(args(), {
      signal: abort.signal,
      heartbeat: () => abort.abort(new Error('CANCELLED')),
      detachOn: () => false,
    });
    const outcome = await pending;
    expect(outcome.envelope).toMatchObject({ status: 'error', error: { code: 'ERR_CANCELLED' } });
    expect(modal.sandboxes[0]!.stopped).toBe(true);
  });

  it('cancelled before the sandbox exists: ERR_CANCELLED and nothing created', async () => {
    const modal = new MemoryModal(writesStats);
    const abort = new AbortController();
    abort.abort();
    const outcome = await adapterOf(modal).invoke(args(), { signal: abort.signal });
    expect(outcome.envelope).toMatchObject({ status: 'error', error: { code: 'ERR_CANCELLED' } });
    expect(modal.ops).not.toContain('create');
  });

  it('a processor that exits 137 or 124 by itself is a failed processor, not a timeout or a kill', async () => {
    for (const code of [137, 124]) {
      const modal = new MemoryModal(() => Promise.resolve(code));
      const outcome = await adapterOf(modal).invoke(args());
      expect(outcome.envelope).toMatchObject({ status: 'error', error: { code: 'ERR_PROCESSOR_FAILED' } });
      expect(outcome.exit_code).toBe(code);
      expect(modal.ops).toContain('terminate sb-1');
    }
  });

  it('a failure the kit reports with its code keeps that code (ERR_MISSING_SECRET), with the stderr tail', async () => {
    const modal = new MemoryModal((_out, stderr) => {
      stderr('{"event":"execution.fail","code":"ERR_MISSING_SECRET"}');
      return Promise.resolve(2);
    });
    const outcome = await adapterOf(modal).invoke(args());
    expect(outcome.envelope).toMatchObject({ status: 'error', error: { code: 'ERR_MISSING_SECRET' } });
    expect(outcome.stderr_tail).toContain('execution.fail');
  });

  it('a symlink in /work/out: ERR_OUTPUT_INVALID, nothing unpacked, the sandbox terminated', async () => {
    const modal = new MemoryModal(async (out, stderr) => {
      await writesStats(out, stderr);
      symlinkSync('/etc/passwd', join(out, 'outputs', 'passwd'));
      return 0;
    });
    const a = args();
    const outcome = await adapterOf(modal).invoke(a);
    expect(outcome.envelope).toMatchObject({ status: 'error', error: { code: 'ERR_OUTPUT_INVALID' } });
    const collected = () => modal.sandboxes[0]!.collected;
    expect(outcome.envelope.status === 'error' && outcome.envelope.error.message, collected()).toMatch(/symbolic link/);
    expect(modal.ops.slice(-2)).toEqual(['terminate sb-1', 'wait sb-1']);
  });

  it('long and non-ASCII names come back whole (PAX records), bytes unchanged', async () => {
    const long = `${'ü'.repeat(60)}/${'n'.repeat(150)}.bin`;
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256));
    const modal = new MemoryModal(async (out, stderr) => {
      await writesStats(out, stderr);
      mkdirSync(join(out, 'outputs', 'ü'.repeat(60)), { recursive: true });
      writeFileSync(join(out, 'outputs', long), data);
      return 0;
    });
    const a = args();
    const outcome = await adapterOf(modal).invoke(a);
    expect(outcome.envelope.status).toBe('success');
    expect((await readFile(join(a.workdir, 'out', 'outputs', long))).equals(data)).toBe(true);
  });

  it('more output than runtime.outputs allows: ERR_OUTPUT_TOO_LARGE', async () => {
    const modal = new MemoryModal(writesStats);
    const runtime = { ...args().runtime, outputs: { ...DEFAULT_OUTPUT_LIMITS, max_file_bytes: 4 } };
    const outcome = await adapterOf(modal).invoke(args({ runtime }));
    expect(outcome.envelope).toMatchObject({ status: 'error', error: { code: 'ERR_OUTPUT_TOO_LARGE' } });
  });

  it('the connection dropping while the processor runs: the mapped code, and the sandbox still terminated', async () => {
    const dropped = Object.assign(new Error('UNAVAILABLE: connection reset'), {
      code: 14,
      path: '/modal.task_command_router.TaskCommandRouter/TaskExecWait',
    });
    const modal = new MemoryModal(() => Promise.reject(dropped));
    expect(await codeOf(adapterOf(modal).invoke(args()))).toBe('ERR_ADAPTER_UNAVAILABLE');
    expect(modal.ops.slice(-2)).toEqual(['terminate sb-1', 'wait sb-1']);
  });
});

describe('what runs in the sandbox', () => {
  it('the processor gets the image’s entry point and exactly the local adapter’s argv', () => {
    expect([...PROCESSOR_ENTRYPOINT]).toEqual([...ENTRYPOINT]);
    const a = args();
    expect(processorCommand(a)).toEqual([...ENTRYPOINT, ...(containerCreateOptions(a, IMAGE).Cmd as string[])]);
  });
});
