// `worldloop deploy --env dev --probe` as the deploy lane runs it (CI=true), through the CLI, against the
// loopback fake of Modal's gRPC API with the real SDK and sandboxes the fake runs on the local Docker engine:
// the deploy, then every processor once in mock mode through the Modal adapter on the whole loop, then the
// negative probe (llm/chat@1 in real mode without its secret must end in ERR_MISSING_SECRET). And a workspace
// whose app serves another image than the one pinned: the probes fail, ERR_DEPLOY_PROBE, exit 1.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { hostPlatform } from '../../src/registry';
import { loadRegistry, pinnedImage, getEntry } from '../../src/registry/registry';
import { FAKE_LABEL } from '../fixtures/modal-fake/sandboxes';
import { modalDescriptorSetPath, startModalFake, type ModalFake } from '../fixtures/modal-fake/server';
import { integrationEnv } from './env';
import { preparedRegistryDir } from './loop-harness';

const run = promisify(execFile);
const TOKEN = { MODAL_TOKEN_ID: 'ak-fake-probe', MODAL_TOKEN_SECRET: 'as-fake-probe' };
const docker = new Docker();
let registryDir: string;
let fake: ModalFake | undefined;

beforeAll(async () => {
  modalDescriptorSetPath();
  // The lane deploys the repository's processors; their pins here are the images built for this test run.
  const prepared = await preparedRegistryDir();
  registryDir = await mkdtemp(join(tmpdir(), 'wl-probe-registry-'));
  for (const ns of ['text', 'llm']) await cp(join(prepared, ns), join(registryDir, ns), { recursive: true });
}, 900_000);

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function startFake(imageSubstitutes: Record<string, string> = {}): Promise<ModalFake> {
  const env = integrationEnv();
  fake = await startModalFake({
    tokenId: TOKEN.MODAL_TOKEN_ID,
    tokenSecret: TOKEN.MODAL_TOKEN_SECRET,
    // The processors' secret exists in the workspace: the negative probe must not use it.
    secretValues: { OPENAI_API_KEY: { OPENAI_API_KEY: 'sk-must-not-be-used-by-the-probe' } },
    imageSubstitutes,
    sandboxes: { docker, pullRegistry: env.registryHost, platform: hostPlatform() },
  });
  return fake;
}

/** The CLI as the deploy lane runs it; exit code, stdout, stderr. */
async function deployProbe(f: ModalFake): Promise<{ code: number; stdout: string; stderr: string; dir: string }> {
  const env = integrationEnv();
  const dir = await mkdtemp(join(tmpdir(), 'wl-probe-'));
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    CI: 'true',
    ...TOKEN,
    MODAL_SERVER_URL: f.url,
    MODAL_CONFIG_PATH: '/nonexistent/modal.toml',
    WORLDLOOP_STATE_DIR: join(dir, 'state'),
    WORLDLOOP_REGISTRY_DIR: registryDir,
    TEMPORAL_ADDRESS: env.temporalAddress,
    TEMPORAL_UI_URL: env.uiUrl,
    WORLDLOOP_METRICS_ADDR: 'off',
    WORLDLOOP_LOG_LEVEL: 'error',
  };
  const args = ['bin/worldloop.js', 'deploy', '--env', 'dev', '--probe', '--json'];
  const deployments = ['--deployments', join(dir, 'deployments'), '--by', 'test'];
  try {
    const { stdout, stderr } = await run('node', [...args, ...deployments], { cwd: REPO_ROOT, env: childEnv });
    return { code: 0, stdout, stderr, dir };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, dir };
  }
}

type Probe = { ref: string; probe: string; verdict: string; saw: string };

describe('worldloop deploy --probe against the Modal fake', () => {
  it('deploys, every processor settles in mock mode on Modal, llm/chat@1 without its secret is refused', async () => {
    const f = await startFake();
    const r = await deployProbe(f);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; probes: Probe[] };
    expect(out.ok).toBe(true);
    expect(out.probes.map((p) => [p.ref, p.probe, p.verdict, p.saw])).toEqual([
      ['llm/chat@1', 'mock-validation', 'passed', 'success'],
      ['llm/chat@1', 'negative', 'passed', 'ERR_MISSING_SECRET'],
      ['text/stats@1', 'mock-validation', 'passed', 'success'],
      ['text/stats@1', 'negative', 'skipped', ''],
    ]);
    // The CI apps; no secret looked up by name for any probe (mock reads none, the negative probe sends none).
    const apps = new Set(f.calls.filter((c) => c.method === 'AppGetOrCreate').map((c) => c.request.app_name));
    expect([...apps].sort()).toEqual(['llm-chat-v1', 'text-stats-v1']);
    expect(f.calls.map((c) => c.method)).not.toContain('SecretGetOrCreate');
    // Three sandboxes (two mock runs, one negative probe), every one blocked from the network, none left running.
    const creates = f.calls.filter((c) => c.method === 'SandboxCreateV2');
    expect(creates).toHaveLength(3);
    for (const c of creates)
      expect((c.request as { definition: unknown }).definition).toMatchObject({
        network_access: { network_access_type: 2 },
        secret_ids: [],
      });
    const left = await docker.listContainers({ all: true, filters: { label: [FAKE_LABEL] } });
    expect(left.filter((c) => c.State === 'running')).toEqual([]);
    // The deployment is recorded for the drift audit, the probe report beside it.
    const recorded = JSON.parse(await readFile(join(r.dir, 'deployments', 'dev.json'), 'utf8')) as {
      processors: Record<string, { platforms: { amd64: string } }>;
    };
    const registry = await loadRegistry(registryDir);
    expect(recorded.processors['llm/chat@1']!.platforms.amd64).toBe(
      pinnedImage(getEntry(registry, 'llm/chat@1'), 'amd64'),
    );
    expect(await readdir(join(r.dir, 'deployments', 'probes'))).toEqual([expect.stringMatching(/^dev-.*\.json$/)]);
  });

  it('an app that serves another image than the pinned one: ERR_DEPLOY_PROBE naming what each probe saw, exit 1', async () => {
    const registry = await loadRegistry(registryDir);
    const chat = pinnedImage(getEntry(registry, 'llm/chat@1'), 'amd64');
    const stats = pinnedImage(getEntry(registry, 'text/stats@1'), 'amd64');
    const f = await startFake({ [chat]: stats });
    const r = await deployProbe(f);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; code: string; message: string };
    expect(out).toMatchObject({ ok: false, code: 'ERR_DEPLOY_PROBE' });
    expect(out.message).toMatch(/llm\/chat@1 mock-validation saw ERR_INPUTS/);
    expect(out.message).toMatch(/llm\/chat@1 negative saw ERR_INPUTS/);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);
    expect(await readdir(join(r.dir, 'deployments', 'probes'))).toHaveLength(1);
  });
});
