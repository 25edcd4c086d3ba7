// The embedded dev server's lifecycle on its own state dir and ports (so it never disturbs the shared one):
// concurrent CLIs start exactly one server, stale pid/lock files are cleaned, stop really stops it, and a
// server started without worldloop's search attributes gets them registered.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, config, loadConfig, type Config } from '../../src/config';
import type { WorldloopError } from '../../src/contracts/errors';
import { WORLDLOOP_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { devServerPaths, ensureDevServer, pidAlive, probeTemporal, stopDevServer } from '../../src/temporal/dev-server';
import { freePort, freePorts } from './free-port';

const execFileAsync = promisify(execFile);
const PROBE_ID = 'devserver-test/persistence';

let stateDir: string;
let env: NodeJS.ProcessEnv;
let cfg: Config;

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  try {
    const { stdout } = await execFileAsync('node', ['bin/worldloop.js', ...args, '--json'], {
      cwd: REPO_ROOT,
      env,
      timeout: 180_000,
    });
    return { code: 0, json: JSON.parse(stdout) as Record<string, unknown> };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? 1, json: e.stdout ? (JSON.parse(e.stdout) as Record<string, unknown>) : {} };
  }
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'wl-devserver-'));
  const [port, uiPort] = await freePorts(2);
  env = {
    ...process.env,
    WORLDLOOP_STATE_DIR: stateDir,
    WORLDLOOP_TEMPORAL_PORT: String(port),
    WORLDLOOP_UI_PORT: String(uiPort),
    TEMPORAL_ADDRESS: '',
  };
  delete env['TEMPORAL_ADDRESS'];
  cfg = loadConfig(env);
});

afterAll(async () => {
  await stopDevServer(cfg).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
});

describe('embedded dev server lifecycle', () => {
  it('three CLIs starting at once start exactly one server', async () => {
    const results = await Promise.all([1, 2, 3].map(() => cli('server', 'start')));
    for (const r of results) expect(r.code).toBe(0);
    expect(results.filter((r) => r.json['started'] === true)).toHaveLength(1);
    const pids = new Set(results.map((r) => r.json['pid']));
    expect(pids.size).toBe(1);
    const [pid] = [...pids] as number[];
    expect(pidAlive(pid)).toBe(true);
    expect(existsSync(devServerPaths(cfg).lockFile)).toBe(false);

    const status = await cli('server', 'status');
    expect(status).toMatchObject({ code: 0, json: { running: true, ui_ok: true, pid } });
    expect(existsSync(devServerPaths(cfg).dbFile)).toBe(true);

    // A workflow (no worker needed) whose history must survive a restart: the SQLite file is the state.
    const connection = await Connection.connect({ address: `127.0.0.1:${cfg.temporal.devPort}` });
    try {
      await new Client({ connection }).workflow.start('persistenceProbe', {
        taskQueue: 'wl-devserver-test',
        workflowId: PROBE_ID,
      });
    } finally {
      await connection.close();
    }
  });

  it('stop stops it, and status then exits 1', async () => {
    const started = await ensureDevServer(cfg);
    expect(started.started).toBe(false);
    const stop = await cli('server', 'stop');
    expect(stop.json).toMatchObject({ ok: true, stopped: true, pid: started.pid });
    expect(pidAlive(started.pid)).toBe(false);
    const status = await cli('server', 'status');
    expect(status.code).toBe(1);
    expect(status.json).toMatchObject({ running: false, pid: null });
  });

  it('cleans a stale pid file and a stale lock left by a dead process, keeping the history', async () => {
    const paths = devServerPaths(cfg);
    await mkdir(paths.dir, { recursive: true });
    // A pid that cannot be alive (above the default pid_max of 2^22).
    await writeFile(paths.pidFile, '4999999\n');
    await writeFile(paths.lockFile, '4999998\n');
    const dev = await ensureDevServer(cfg);
    expect(dev.started).toBe(true);
    expect(dev.pid).not.toBe(4999999);
    expect(pidAlive(dev.pid)).toBe(true);
    expect(existsSync(paths.lockFile)).toBe(false);
    const connection = await Connection.connect({ address: dev.address });
    try {
      const described = await new Client({ connection }).workflow.getHandle(PROBE_ID).describe();
      expect(described.type).toBe('persistenceProbe');
    } finally {
      await connection.close();
    }
    await stopDevServer(cfg);
  });
});

describe('a server killed outright', () => {
  it('keeps every committed history: the database runs in WAL mode (ADR 0022)', async () => {
    const dev = await ensureDevServer(cfg);
    const paths = devServerPaths(cfg);
    expect(existsSync(`${paths.dbFile}-wal`)).toBe(true);
    const connection = await Connection.connect({ address: dev.address });
    try {
      await new Client({ connection }).workflow.start('crashProbe', {
        taskQueue: 'wl-devserver-test',
        workflowId: 'devserver-test/crash',
      });
    } finally {
      await connection.close();
    }
    process.kill(dev.pid, 'SIGKILL');
    for (let i = 0; i < 100 && pidAlive(dev.pid); i++) await sleep(50);
    expect(pidAlive(dev.pid)).toBe(false);

    const again = await ensureDevServer(cfg);
    expect(again.started).toBe(true);
    const reopened = await Connection.connect({ address: again.address });
    try {
      const client = new Client({ connection: reopened });
      expect((await client.workflow.getHandle('devserver-test/crash').describe()).type).toBe('crashProbe');
      expect((await client.workflow.getHandle(PROBE_ID).describe()).type).toBe('persistenceProbe');
    } finally {
      await reopened.close();
    }
    await stopDevServer(cfg);
  });
});

describe('a configured port another process holds', () => {
  it('fails at once with ERR_TEMPORAL_UNAVAILABLE naming the port and the setting, and retries nothing', async () => {
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as { port: number }).port;
    const taken = loadConfig({
      ...env,
      WORLDLOOP_STATE_DIR: join(stateDir, 'taken'),
      WORLDLOOP_TEMPORAL_PORT: String(port),
    });
    try {
      const err = await ensureDevServer(taken).then(
        () => undefined,
        (e: unknown) => e as WorldloopError,
      );
      expect(err?.code).toBe('ERR_TEMPORAL_UNAVAILABLE');
      expect(err?.message).toContain(`port ${port} on 127.0.0.1 is taken by another process`);
      expect(err?.message).toContain('WORLDLOOP_TEMPORAL_PORT');
      // One start only: a port that is ours to configure is not a race worth retrying.
      const log = await readFile(devServerPaths(taken).logFile, 'utf8');
      expect(log.match(/address already in use/g)).toHaveLength(1);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });
});

describe('search attributes on a server worldloop did not start', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid) process.kill(-child.pid, 'SIGKILL');
  });

  it('registers the missing ones (idempotently) when reusing it', async () => {
    const port = await freePort();
    const bare = loadConfig({ ...env, WORLDLOOP_TEMPORAL_PORT: String(port) });
    const temporal = await findTemporalCli(config());
    child = spawn(
      temporal.path,
      ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'],
      { detached: true, stdio: 'ignore' },
    );
    for (let i = 0; !(await probeTemporal(`127.0.0.1:${port}`, 'default')); i++) {
      expect(i, 'the bare dev server did not come up within 60 s').toBeLessThan(240);
      await sleep(250);
    }
    const first = await ensureDevServer(bare);
    expect(first).toMatchObject({ started: false, pid: 0, address: `127.0.0.1:${port}` });
    const second = await ensureDevServer(bare);
    expect(second.started).toBe(false);

    const connection = await Connection.connect({ address: first.address });
    try {
      const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const sa of WORLDLOOP_SEARCH_ATTRIBUTES) expect(res.customAttributes).toHaveProperty(sa.name);
    } finally {
      await connection.close();
    }
  });
});
