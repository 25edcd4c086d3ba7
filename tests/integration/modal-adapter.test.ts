// The Modal adapter end to end through the loopback fake of Modal's gRPC API (issue 8): the real Temporal
// dev server, the real, unmodified SDK, and sandboxes the fake runs for real on the local Docker engine
// from the pinned digests. Outputs must be byte-identical to the local adapter's for the same inputs, and
// the exact list of RPCs a run makes is asserted, so an SDK upgrade that changes the protocol fails here.
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { REPO_ROOT } from '../../src/config';
import type { Envelope } from '../../src/contracts';
import { hostPlatform } from '../../src/registry';
import { FAKE_LABEL } from '../fixtures/modal-fake/sandboxes';
import { modalDescriptorSetPath, startModalFake, type ModalFake } from '../fixtures/modal-fake/server';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';
import { outputsOf, receiptOf } from './modal-outputs';

const run = promisify(execFile);
const TOKEN = { MODAL_TOKEN_ID: 'ak-fake-id', MODAL_TOKEN_SECRET: 'as-fake-secret' };
const APP = 'test-modal-text-stats-v1';
const docker = new Docker();

let fake: ModalFake;
let h: LoopHarness;

beforeAll(async () => {
  modalDescriptorSetPath();
  const env = integrationEnv();
  fake = await startModalFake({
    tokenId: TOKEN.MODAL_TOKEN_ID,
    tokenSecret: TOKEN.MODAL_TOKEN_SECRET,
    sandboxes: { docker, pullRegistry: env.registryHost, platform: hostPlatform() },
  });
  // The SDK reads MODAL_SERVER_URL itself when the worker's client is built (src/adapters/modal/client.ts).
  vi.stubEnv('MODAL_SERVER_URL', fake.url);
  h = await startLoopHarness(env, {
    overrides: {
      ...TOKEN,
      MODAL_SERVER_URL: fake.url,
      MODAL_CONFIG_PATH: '/nonexistent/modal.toml',
      WORLDLOOP_MODAL_USER: 'test',
      WORLDLOOP_MODAL_BRANCH: 'modal',
      OPENAI_API_KEY: undefined,
      CI: undefined,
    },
  });
}, 900_000);

afterAll(async () => {
  await h?.close();
  await fake?.close();
  vi.unstubAllEnvs();
});

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: Math.round(performance.now() - t0) };
}

describe('worldloop run --adapter modal through the fake', () => {
  it('text/stats@1: these exact RPCs, outputs byte-identical to the local adapter, receipt says modal', async () => {
    const inputs = { text: `modal ${uuidv7()}\nsecond line\n` };
    fake.calls.length = 0;
    const modal = await timed(() => h.run({ processor_ref: 'text/stats@1', inputs, adapter: 'modal', cache: false }));
    expect(fake.calls.map((c) => c.method)).toEqual([
      'AuthTokenGet',
      'AppGetOrCreate',
      'EnvironmentGetOrCreate',
      'ImageGetOrCreate',
      'SandboxListV2',
      'SandboxCreateV2',
      // prepare /work (inputs on stdin, then EOF)
      'TaskExecStart',
      'TaskExecStdinWrite',
      'TaskExecStdinWrite',
      'TaskExecStdioRead',
      'TaskExecWait',
      // the processor
      'TaskExecStart',
      'TaskExecStdioRead',
      'TaskExecWait',
      // /work/out back as a tar
      'TaskExecStart',
      'TaskExecStdioRead',
      'TaskExecWait',
      'SandboxTerminateV2',
      'SandboxWaitV2',
    ]);
    const create = fake.calls.find((c) => c.method === 'SandboxCreateV2')!.request as {
      definition: Record<string, unknown>;
      tags: unknown[];
    };
    expect(create.definition).toMatchObject({
      resources: { milli_cpu: 500, memory_mb: 128 },
      timeout_secs: 30 + 120,
      network_access: { network_access_type: 2 }, // BLOCKED
      secret_ids: [],
      name: `wl-${modal.value.execution_id}`,
    });
    expect(create.tags).toEqual([{ tag_name: 'worldloop.execution_id', tag_value: modal.value.execution_id }]);
    expect(fake.calls.find((c) => c.method === 'AppGetOrCreate')!.request).toMatchObject({ app_name: APP });
    // Binary mode, never a PTY.
    for (const c of fake.calls.filter((x) => x.method === 'TaskExecStart'))
      expect(c.request.pty_info ?? null).toBeNull();

    const local = await timed(() => h.run({ processor_ref: 'text/stats@1', inputs, adapter: 'local', cache: false }));
    expect(await outputsOf(h, modal.value.envelope)).toEqual(await outputsOf(h, local.value.envelope));

    const receipt = await receiptOf(h, modal.value.envelope);
    expect(receipt.adapter).toBe('modal');
    expect(receipt.modal_app).toBe(APP);
    expect(receipt.exit_code).toBe(0);
    expect(modal.value.envelope.meta).toMatchObject({ adapter: 'modal', modal_app: APP });

    // Every sandbox the fake started is gone again.
    const left = await docker.listContainers({ all: true, filters: { label: [FAKE_LABEL] } });
    expect(left.filter((c) => c.State === 'running')).toEqual([]);
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    console.log(
      `[modal-adapter] text/stats@1 --no-cache run: modal (fake) ${modal.ms} ms, local ${local.ms} ms; load average ${load}`,
    );
  });

  it('llm/chat@1 in mock mode: byte-identical to the local adapter, no secret looked up or sent', async () => {
    const inputs = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${uuidv7()}` }] };
    fake.calls.length = 0;
    const modal = await h.run({ processor_ref: 'llm/chat@1', inputs, adapter: 'modal', cache: false });
    const local = await h.run({ processor_ref: 'llm/chat@1', inputs, adapter: 'local', cache: false });
    expect(await outputsOf(h, modal.envelope)).toEqual(await outputsOf(h, local.envelope));
    expect(fake.calls.map((c) => c.method)).not.toContain('SecretGetOrCreate');
    const create = fake.calls.find((c) => c.method === 'SandboxCreateV2')!.request as { definition: unknown };
    expect(create.definition).toMatchObject({ secret_ids: [], network_access: { network_access_type: 2 } });
  });

  it('real mode without the processor secret: ERR_MISSING_SECRET before any sandbox is created', async () => {
    fake.calls.length = 0;
    const { envelope } = await h.run({
      processor_ref: 'llm/chat@1',
      inputs: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      adapter: 'modal',
      mode: 'real',
    });
    expect(envelope.status).toBe('error');
    expect(envelope.status === 'error' && envelope.error.code).toBe('ERR_MISSING_SECRET');
    expect(fake.calls.map((c) => c.method)).not.toContain('SandboxCreateV2');
  });

  it('the CLI: run --adapter modal --json succeeds end to end', async () => {
    const { stdout } = await run(
      'node',
      [
        'bin/worldloop.js',
        'run',
        'text/stats@1',
        '--inputs',
        JSON.stringify({ text: `cli ${uuidv7()}` }),
        '--adapter',
        'modal',
        '--json',
      ],
      { cwd: REPO_ROOT, env: { ...h.env, MODAL_SERVER_URL: fake.url } },
    );
    const envelope = JSON.parse(stdout) as Envelope;
    expect(envelope.status, stdout).toBe('success');
    expect(envelope.meta).toMatchObject({ adapter: 'modal', modal_app: APP });
  });

  it('an unreachable Modal (MODAL_SERVER_URL=http://127.0.0.1:1): ERR_ADAPTER_UNAVAILABLE within 60 s, exit 1, no stack', async () => {
    // A task queue nobody polls: the CLI embeds its own worker, whose SDK dials port 1.
    const env = { ...h.env, MODAL_SERVER_URL: 'http://127.0.0.1:1', WORLDLOOP_TASK_QUEUE: `wl-modal-down-${uuidv7()}` };
    const t0 = Date.now();
    const failed = await run(
      'node',
      [
        'bin/worldloop.js',
        'run',
        'text/stats@1',
        '--inputs',
        JSON.stringify({ text: `down ${uuidv7()}` }),
        '--adapter',
        'modal',
      ],
      { cwd: REPO_ROOT, env },
    ).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    const ms = Date.now() - t0;
    expect(failed).toBeDefined();
    expect(failed!.code).toBe(1);
    expect(failed!.stderr).toMatch(/ERR_ADAPTER_UNAVAILABLE/);
    expect(failed!.stderr).toMatch(/why: The execution backend/);
    expect(failed!.stderr).toMatch(/To fix:/);
    expect(failed!.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(ms).toBeLessThan(60_000);
    console.log(`[modal-adapter] unreachable Modal: exit 1 after ${ms} ms`);
  });
});
