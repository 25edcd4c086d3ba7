// llm/chat@1 in real mode through the whole loop, against a fake OpenAI-compatible provider that runs in a
// network namespace this test creates. The container reaches it over an internal Docker network: the
// bridge of that network gets one end of a veth pair, the namespace the other, so nothing leaves this
// machine and the host's own addresses are never the provider. Real mode is set deliberately (CI is
// overridden to "false" for this harness only): the provider is a local fake, and no real key exists.
//
// Covers: settings reach the container (OPENAI_BASE_URL, OPENAI_ORGANIZATION, OPENAI_TIMEOUT_MS from the
// worker's environment, ADR 0009); 200, 401, 429 with Retry-After (waited out, and too long), 500, and a
// slow answer past the timeout; and the canary of issue 13 item 4: a provider that echoes the key
// base64-, hex- and percent-encoded leaves it nowhere — CLI output, worker log, Temporal history, the dev
// server's SQLite files, result.json, the world store.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndPush } from '../../src/build/build-push';
import { REPO_ROOT } from '../../src/config';
import type { Envelope } from '../../src/contracts';
import { createLogger, defaultRedactor } from '../../src/log';
import { OciClient } from '../../src/oci/client';
import { pinRegistry } from '../../src/registry/pin';
import { runHandle } from '../../src/temporal/client';
import { startWorker, type RunningWorker } from '../../src/temporal/worker';
import { secretLeaks } from '../unit/helpers/secret-leaks';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const sh = promisify(execFile);
const tag = randomBytes(3).toString('hex');
const NETNS = `wlpc-${tag}`;
const NETWORK = `wlpc-${tag}`;
const BRIDGE = `wlpcbr${tag}`;
const VETH_HOST = `wlpch${tag}`;
const VETH_NS = `wlpcn${tag}`;
const OCTET = 200 + (parseInt(tag, 16) % 50);
const SUBNET = `10.${OCTET}.${parseInt(tag.slice(0, 2), 16)}`;
const FAKE_IP = `${SUBNET}.250`;
const FAKE_PORT = 8080;
// Shaped like a real key, so the credential patterns would catch the raw form anyway; the encoded forms
// are what this test is about.
const KEY = `sk-canary-${randomBytes(24).toString('base64url')}`;

let h: LoopHarness;
let worker: RunningWorker;
let fake: ChildProcessWithoutNullStreams;
let workerLog = '';
let registryDir = '';
const requests: { model: string; attempt: number; authorization: string; organization: string | null; at: number }[] =
  [];

async function ip(...args: string[]): Promise<void> {
  await sh('ip', args);
}

async function setUpNetwork(): Promise<void> {
  // Containers get addresses from the lower half; the fake sits at .250, outside Docker's range.
  await sh('docker', [
    'network',
    'create',
    '--internal',
    '--driver',
    'bridge',
    '--subnet',
    `${SUBNET}.0/24`,
    '--ip-range',
    `${SUBNET}.0/25`,
    '-o',
    `com.docker.network.bridge.name=${BRIDGE}`,
    NETWORK,
  ]);
  await ip('netns', 'add', NETNS);
  await ip('link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS);
  await ip('link', 'set', VETH_NS, 'netns', NETNS);
  await ip('link', 'set', VETH_HOST, 'master', BRIDGE);
  await ip('link', 'set', VETH_HOST, 'up');
  await ip('netns', 'exec', NETNS, 'ip', 'addr', 'add', `${FAKE_IP}/24`, 'dev', VETH_NS);
  await ip('netns', 'exec', NETNS, 'ip', 'link', 'set', VETH_NS, 'up');
  await ip('netns', 'exec', NETNS, 'ip', 'link', 'set', 'lo', 'up');
}

async function startFake(): Promise<void> {
  fake = spawn(
    'ip',
    [
      'netns',
      'exec',
      NETNS,
      process.execPath,
      '--import',
      'tsx',
      join(REPO_ROOT, 'tests/integration/fake-openai.ts'),
      FAKE_IP,
      String(FAKE_PORT),
    ],
    { cwd: REPO_ROOT },
  );
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    fake.on('exit', (code) => reject(new Error(`the fake provider exited (${code})`)));
    fake.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as { listening?: boolean } & (typeof requests)[number];
        buffered = buffered.slice(nl + 1);
        if (line.listening) resolve();
        else requests.push(line);
      }
    });
  });
}

/**
 * llm/chat@1 built from these sources and pinned in a registry folder of its own, under a repository of
 * its own: every harness on this machine pushes the shared `llm-chat:v1` tag and pin reads the tag, so a
 * concurrent build elsewhere could otherwise hand this test someone else's image.
 */
async function privateRegistry(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wl-llm-real-registry-'));
  await cp(join(REPO_ROOT, 'registry'), dir, { recursive: true });
  const file = join(dir, 'llm', 'chat.yaml');
  const shared = '127.0.0.1:5000/worldloop/worldloop/llm-chat';
  await writeFile(
    file,
    (await readFile(file, 'utf8')).replaceAll(shared, `127.0.0.1:5000/worldloop/wl-llm-real-${tag}/llm-chat`),
  );
  const client = new OciClient();
  await buildAndPush({
    registryDir: dir,
    root: REPO_ROOT,
    client,
    refs: ['llm/chat@1'],
    platforms: ['amd64', 'arm64'],
  });
  await pinRegistry({ registryDir: dir, client, profile: 'dev' });
  return dir;
}

beforeAll(async () => {
  registryDir = await privateRegistry();
  await setUpNetwork();
  await startFake();
  h = await startLoopHarness(integrationEnv(), {
    embeddedWorker: false,
    overrides: {
      CI: 'false',
      WORLDLOOP_REGISTRY_DIR: registryDir,
      WORLDLOOP_LOG_LEVEL: 'info',
      WORLDLOOP_EGRESS_NETWORK: NETWORK,
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: `http://${FAKE_IP}:${FAKE_PORT}/v1`,
      OPENAI_ORGANIZATION: 'org-worldloop-test',
      OPENAI_TIMEOUT_MS: '1500',
    },
  });
  // Our own worker, so its log lines can be searched; same redactor as any worker.
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      workerLog += chunk.toString('utf8');
      done();
    },
  });
  worker = await startWorker(h.cfg, h.temporal, {
    logger: createLogger({ level: 'info', destination: sink, redactor: defaultRedactor }),
  });
}, 900_000);

afterAll(async () => {
  await worker?.shutdown();
  await h?.close();
  fake?.kill('SIGTERM');
  // Deleting the namespace deletes its veth end and with it the pair.
  await ip('netns', 'del', NETNS).catch(() => undefined);
  await ip('link', 'del', VETH_HOST).catch(() => undefined);
  await sh('docker', ['network', 'rm', NETWORK]).catch(() => undefined);
  if (registryDir) await rm(registryDir, { recursive: true, force: true });
});

const INPUTS = (model: string) => ({ model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });

async function real(model: string): Promise<{ execution_id: string; envelope: Envelope }> {
  return h.run({ processor_ref: 'llm/chat@1', inputs: INPUTS(model), mode: 'real' });
}

function expectError(envelope: Envelope, code: string): string {
  expect(envelope.status, JSON.stringify(envelope)).toBe('error');
  if (envelope.status !== 'error') return '';
  expect(envelope.error.code, envelope.error.message).toBe(code);
  return envelope.error.message;
}

const seen = (model: string) => requests.filter((r) => r.model === model);

describe('llm/chat@1 real mode against a provider in its own network namespace', () => {
  it('200: the settings reach the container, the key only as the bearer token', async () => {
    const { envelope } = await real('ok-1');
    expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    if (envelope.status !== 'success') return;
    const reply = await h.world.world.readBytes(envelope.outputs.find((o) => o.endsWith('completion.txt'))!);
    expect(new TextDecoder().decode(reply)).toBe(`hello from the fake at ${FAKE_IP}`);
    expect(seen('ok-1')).toEqual([
      expect.objectContaining({ authorization: `Bearer ${KEY}`, organization: 'org-worldloop-test', attempt: 1 }),
    ]);
    expect(envelope.meta.env_fingerprint).toMatch(/;config=blake3:[0-9a-f]{64};/);
    expect(envelope.meta.env_fingerprint).toContain(`network=egress`);
  });

  it('401 → ERR_PROVIDER_AUTH', async () => {
    const message = expectError((await real('unauthorized-1')).envelope, 'ERR_PROVIDER_AUTH');
    expect(message).toContain('HTTP 401');
    expect(seen('unauthorized-1')).toHaveLength(1);
  });

  it('429 with a short Retry-After is waited out and retried once inside the run', async () => {
    const { envelope } = await real('rate-once-1');
    expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    const calls = seen('rate-once-1');
    expect(calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('429 with a long Retry-After → ERR_PROVIDER_RATE_LIMITED naming the wait, the processor runs once', async () => {
    const message = expectError((await real('rate-long-1')).envelope, 'ERR_PROVIDER_RATE_LIMITED');
    expect(message).toContain('retry after 3600 s');
    // Execute is retried by Temporal, but each retry adopts the recorded result instead of calling again.
    expect(seen('rate-long-1')).toHaveLength(1);
  });

  it('500 → ERR_PROVIDER_UNAVAILABLE', async () => {
    const message = expectError((await real('broken-1')).envelope, 'ERR_PROVIDER_UNAVAILABLE');
    expect(message).toContain('HTTP 500');
  });

  it('an answer slower than OPENAI_TIMEOUT_MS → ERR_PROVIDER_UNAVAILABLE', async () => {
    const message = expectError((await real('slow-1')).envelope, 'ERR_PROVIDER_UNAVAILABLE');
    expect(message).toContain('no response within 1500 ms');
    expect(seen('slow-1')).toHaveLength(1);
  });
});

// ---- the canary ----

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Every string in the history, plus every payload decoded from its base64 data. */
function historyTexts(history: unknown): string[] {
  const texts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const record = v as Record<string, unknown>;
      if (typeof record.data === 'string' && record.metadata !== undefined) {
        texts.push(Buffer.from(record.data, 'base64').toString('utf8'));
      }
      Object.values(record).forEach(walk);
    }
  };
  walk(history);
  return texts;
}

describe('canary: a provider that echoes the key encoded leaves it nowhere', () => {
  it('CLI output, worker log, Temporal history, dev-server SQLite, result.json and the world store', async () => {
    const started = Date.now();
    // Through the CLI, as a person would run it; our worker polls the task queue, so the CLI uses it.
    const cli = await sh(
      process.execPath,
      ['bin/worldloop.js', 'run', 'llm/chat@1', '--mode', 'real', '--inputs', JSON.stringify(INPUTS('echo-key-1'))],
      { cwd: REPO_ROOT, env: h.env },
    ).then(
      (r) => ({ code: 0, out: `${r.stdout}\n${r.stderr}` }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}\n${e.stderr}` }),
    );
    expect(cli.code, cli.out).not.toBe(0);
    expect(cli.out).toContain('ERR_PROVIDER_AUTH');
    expect(seen('echo-key-1')).toHaveLength(1);
    const executionId = /run ([0-9a-f-]{36})/.exec(cli.out)?.[1];
    expect(executionId, cli.out).toBeDefined();

    const places: Record<string, string[]> = {
      'CLI output': [cli.out],
      'worker log': [workerLog],
    };

    const handle = runHandle(h.client, executionId!);
    const history = historyToJSON(await handle.fetchHistory());
    places['Temporal history (events, failure messages, stack traces, decoded payloads)'] = [
      history,
      ...historyTexts(JSON.parse(history)),
    ];
    expect(history).toContain('ERR_PROVIDER_AUTH');
    expect(history).toContain('stackTrace');

    // The dev server's own database, with its write-ahead log (recent writes live there first).
    const temporalDir = join(integrationEnv().stateDir, 'temporal');
    const dbFiles = (await readdir(temporalDir)).filter((f) => f.startsWith('dev.sqlite'));
    expect(dbFiles).toContain('dev.sqlite');
    places['dev server SQLite'] = await Promise.all(
      dbFiles.map(async (f) => (await readFile(join(temporalDir, f))).toString('latin1')),
    );

    // The harness's state folder: runs/<id>/result.json (and anything else a run left), the world store,
    // the CLI's log file.
    const stateFiles = await filesUnder(h.cfg.stateDir);
    const resultJson = stateFiles.filter((f) => f.endsWith(join(executionId!, 'result.json')));
    places['state folder (result.json, world store, logs)'] = await Promise.all(
      stateFiles.map(async (f) => ((await stat(f)).size < 64 * 2 ** 20 ? (await readFile(f)).toString('latin1') : '')),
    );
    // result.json is kept for a failed run unless the workdir was cleaned; say which it was.
    console.log(
      `[canary] searched ${stateFiles.length} state files (result.json: ${resultJson.length}), ${dbFiles.length} SQLite files, ` +
        `${places['Temporal history (events, failure messages, stack traces, decoded payloads)']!.length} history texts, ` +
        `${workerLog.length} B of worker log, ${cli.out.length} B of CLI output in ${Date.now() - started} ms`,
    );

    for (const [place, texts] of Object.entries(places)) {
      const leaks = texts.flatMap((t) => secretLeaks(t, KEY));
      expect(leaks, place).toEqual([]);
    }
    // The search itself can find what it looks for: the provider's own body carried every encoding.
    expect(secretLeaks(`Basic ${Buffer.from(`user:${KEY}`).toString('base64')}`, KEY)).not.toEqual([]);
    expect(workerLog).toContain('ERR_PROVIDER_AUTH');
  });
});
