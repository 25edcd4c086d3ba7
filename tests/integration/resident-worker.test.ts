// The resident worker (issue 10) on its own state folder and ports: `server start` starts the dev server and one
// background worker, `server status` shows both, a `run` is served by that worker (not by a worker embedded in the
// CLI), a killed worker is restarted by the next `run`, and `server stop` stops both.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, loadConfig, type Config } from '../../src/config';
import type { Envelope } from '../../src/contracts/schemas';
import { runWorkflowId } from '../../src/contracts/workflow-id';
import { pidAlive, stopDevServer } from '../../src/temporal/dev-server';
import { residentWorkerPaths, stopResidentWorker } from '../../src/temporal/resident-worker';
import { freePorts } from './free-port';
import { preparedRegistryDir } from './loop-harness';

const execFileAsync = promisify(execFile);

let stateDir: string;
let env: NodeJS.ProcessEnv;
let cfg: Config;

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  return cliWith([], {}, ...args);
}

async function cliWith(
  nodeArgs: string[],
  extraEnv: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [...nodeArgs, 'bin/worldloop.js', ...args, '--json'],
      {
        cwd: REPO_ROOT,
        env: { ...env, ...extraEnv },
        timeout: 240_000,
      },
    );
    return { code: 0, json: JSON.parse(stdout) as Record<string, unknown>, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: e.code ?? 1,
      json: e.stdout ? (JSON.parse(e.stdout) as Record<string, unknown>) : {},
      stderr: e.stderr ?? '',
    };
  }
}

/** The identities that started the run's activities, from its history. */
async function activityWorkers(executionId: string): Promise<Set<string>> {
  const connection = await Connection.connect({ address: `127.0.0.1:${cfg.temporal.devPort}` });
  try {
    const history = await new Client({ connection }).workflow.getHandle(runWorkflowId(executionId)).fetchHistory();
    return new Set(
      (history.events ?? []).flatMap((e) =>
        e.activityTaskStartedEventAttributes?.identity ? [e.activityTaskStartedEventAttributes.identity] : [],
      ),
    );
  } finally {
    await connection.close();
  }
}

const paths = () => residentWorkerPaths(cfg);
const workerPid = async () => Number((await readFile(residentWorkerPaths(cfg).pidFile, 'utf8')).trim());

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'wl-resident-'));
  const [port, uiPort] = await freePorts(2);
  env = {
    ...process.env,
    WORLDLOOP_STATE_DIR: stateDir,
    WORLDLOOP_REGISTRY_DIR: await preparedRegistryDir(),
    WORLDLOOP_TEMPORAL_PORT: String(port),
    WORLDLOOP_UI_PORT: String(uiPort),
    WORLDLOOP_TASK_QUEUE: 'wl-resident-test',
    WORLDLOOP_METRICS_ADDR: 'off',
    WORLDLOOP_LOG_LEVEL: 'warn',
  };
  delete env['TEMPORAL_ADDRESS'];
  delete env['WORLDLOOP_NO_EMBEDDED_WORKER'];
  cfg = loadConfig(env);
});

afterAll(async () => {
  await stopResidentWorker(cfg).catch(() => undefined);
  await stopDevServer(cfg).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
});

describe('the resident worker', () => {
  let firstPid: number;

  it('server start starts the dev server and the worker; status shows both', async () => {
    const started = await cli('server', 'start');
    // The JSON names the error code when it fails (seen once in CI: exit 1 after 605 ms, stderr empty).
    expect(started.code, `${started.stderr}${JSON.stringify(started.json)}`).toBe(0);
    expect(started.json).toMatchObject({ ok: true, started: true, worker: { started: true } });
    firstPid = (started.json['worker'] as { pid: number }).pid;
    expect(pidAlive(firstPid)).toBe(true);
    expect(await workerPid()).toBe(firstPid);

    const again = await cli('server', 'start');
    expect(again.json).toMatchObject({ started: false, worker: { pid: firstPid, started: false } });

    const status = await cli('server', 'status');
    expect(status).toMatchObject({
      code: 0,
      json: {
        running: true,
        worker: { running: true, pid: firstPid, task_queue: 'wl-resident-test', current: true },
      },
    });
  });

  it('a run goes to the resident worker through its socket: the CLI loads no Temporal SDK', async () => {
    const trace = join(stateDir, 'modules.txt');
    const run = await cliWith(
      ['--import', join(REPO_ROOT, 'tests/fixtures/module-trace/register.mjs')],
      { WORLDLOOP_MODULE_TRACE: trace },
      'run',
      'text/stats@1',
      '--inputs',
      JSON.stringify({ text: `resident ${Date.now()}` }),
    );
    expect(run.code, run.stderr).toBe(0);
    const envelope = run.json as unknown as Envelope;
    expect(envelope.status).toBe('success');
    expect(await activityWorkers(envelope.execution_id)).toEqual(new Set([`worldloop-worker@${firstPid}`]));
    // The first run of this state folder: the worker created the default plan and the CLI said so.
    expect(run.stderr).toContain('created plan "default" with a budget of $10');
    const loaded = (await readFile(trace, 'utf8')).split('\n');
    expect(loaded.some((url) => url.includes('/dist/cli.js'))).toBe(true);
    expect(loaded.filter((url) => url.includes('/node_modules/@temporalio/'))).toEqual([]);
    // Nor the request schema, hashing or world modules: the worker completes and checks the request (ADR 0025).
    const meta = JSON.parse(await readFile(join(REPO_ROOT, 'dist', 'meta.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>;
    };
    const sourcesOf = new Map(Object.entries(meta.outputs).map(([out, o]) => [basename(out), Object.keys(o.inputs)]));
    const compiled = loaded
      .filter((url) => url.includes('/dist/'))
      .flatMap((url) => sourcesOf.get(basename(url)) ?? []);
    expect(compiled).toContain('src/cli/run-draft.ts');
    expect(
      compiled.filter((src) => /^src\/(contracts\/schemas|hashing\/|world\/)|^node_modules\/@noble\//.test(src)),
    ).toEqual([]);
  });

  it('a request the worker refuses is reported exactly as the CLI refuses it alone', async () => {
    // Through the socket the worker checks the request (src/cli/run-request.ts); --embedded-worker makes the CLI
    // check it itself. The worker's log shows each refusal, so the socket path was really taken.
    const refusals = async () => (await readFile(paths().logFile, 'utf8')).split('"worker.front_door"').length - 1;
    const cases = [
      ['NOT A REF', '--inputs', '{"text":"a"}'],
      ['text/stats@1', '--inputs', '{"a":1,"a":2}'],
      ['text/stats@1', '--inputs', '{"__proto__":{}}'],
      ['text/stats@1', '--inputs', '[1]'],
      ['text/stats@1', '--inputs', '{"text":"a"}', '--write-prefix', 'world://artifacts/%2e%2E/'],
      ['text/stats@1', '--inputs', '{"text":"a"}', '--plan', ''],
    ];
    for (const args of cases) {
      const before = await refusals();
      const viaWorker = await cli('run', ...args);
      expect(await refusals(), JSON.stringify(args)).toBe(before + 1);
      const alone = await cli('run', ...args, '--embedded-worker');
      expect(viaWorker.json, JSON.stringify(args)).toMatchObject({ ok: false, code: expect.stringMatching(/^ERR_/) });
      expect(viaWorker, JSON.stringify(args)).toEqual(alone);
    }
  });

  it('a killed worker shows in status and is restarted by the next run', async () => {
    process.kill(firstPid, 'SIGKILL');
    for (let i = 0; i < 100 && pidAlive(firstPid); i++) await new Promise((r) => setTimeout(r, 50));
    const status = await cli('server', 'status');
    expect(status.json).toMatchObject({ running: true, worker: { running: false, pid: null } });

    const run = await cli('run', 'text/stats@1', '--inputs', JSON.stringify({ text: `restarted ${Date.now()}` }));
    expect(run.code, run.stderr).toBe(0);
    const envelope = run.json as unknown as Envelope;
    expect(envelope.status).toBe('success');
    const secondPid = await workerPid();
    expect(secondPid).not.toBe(firstPid);
    expect(pidAlive(secondPid)).toBe(true);
    expect(await activityWorkers(envelope.execution_id)).toEqual(new Set([`worldloop-worker@${secondPid}`]));
  });

  it('server stop stops the worker and the dev server', async () => {
    const workerBefore = await workerPid();
    const stopped = await cli('server', 'stop');
    expect(stopped).toMatchObject({ code: 0, json: { stopped: true, worker: { stopped: true, pid: workerBefore } } });
    expect(pidAlive(workerBefore)).toBe(false);
    expect(pidAlive(stopped.json['pid'] as number)).toBe(false);
    const status = await cli('server', 'status');
    expect(status).toMatchObject({ code: 1, json: { running: false, worker: { running: false } } });
  });
});
