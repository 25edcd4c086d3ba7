// doctor's verdicts against real files and processes: the rows that decide whether worldloop can run.
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import {
  checkNode,
  checkStateDir,
  checkTemporalCli,
  checkTemporalServer,
  doctorExitCode,
  nodeVersionAtLeast,
  renderDoctorTable,
  type DoctorCheck,
} from '../../src/cli/commands/doctor';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wl-doctor-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('node version', () => {
  it.each([
    ['20.19.0', true],
    ['v20.19.5', true],
    ['20.18.9', false],
    ['21.0.0', true],
    ['22.12.0', true],
    ['18.20.4', false],
  ])('%s >= 20.19 is %s', (v, expected) => {
    expect(nodeVersionAtLeast(v, '20.19')).toBe(expected);
    expect(checkNode(v).status).toBe(expected ? 'ok' : 'fail');
  });

  it('says what to do when Node is too old', () => {
    expect(checkNode('18.0.0').action).toMatch(/Install Node >= 20\.19/);
  });
});

describe('state dir', () => {
  it('is ok when writable and leaves nothing behind', async () => {
    const dir = join(tmp, 'state-ok');
    const check = await checkStateDir(loadConfig({ WORLDLOOP_STATE_DIR: dir }));
    expect(check.status).toBe('ok');
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails when the state dir cannot be created (a file is in the way)', async () => {
    const file = join(tmp, 'a-file');
    await writeFile(file, 'x');
    const check = await checkStateDir(loadConfig({ WORLDLOOP_STATE_DIR: join(file, 'state') }));
    expect(check.status).toBe('fail');
    expect(check.action).toMatch(/WORLDLOOP_STATE_DIR/);
  });
});

describe('temporal cli', () => {
  it('fails without a CLI and without TEMPORAL_ADDRESS, and names the setup script', async () => {
    const emptyPath = join(tmp, 'empty-path');
    const cfg = loadConfig({ PATH: emptyPath, WORLDLOOP_TOOLS_DIR: join(tmp, 'no-tools') });
    const check = await checkTemporalCli(cfg);
    expect(check.status).toBe('fail');
    expect(check.detail).toMatch(/not found/);
  });

  it('only warns when a cluster is configured', async () => {
    const cfg = loadConfig({
      PATH: join(tmp, 'empty-path'),
      WORLDLOOP_TOOLS_DIR: join(tmp, 'no-tools'),
      TEMPORAL_ADDRESS: 'temporal.example:7233',
    });
    expect((await checkTemporalCli(cfg)).status).toBe('warn');
  });

  it('fails when WORLDLOOP_TEMPORAL_BIN is not executable', async () => {
    const check = await checkTemporalCli(loadConfig({ WORLDLOOP_TEMPORAL_BIN: join(tmp, 'missing-temporal') }));
    expect(check.status).toBe('fail');
    expect(check.action).toMatch(/WORLDLOOP_TEMPORAL_BIN/);
  });

  it('uses WORLDLOOP_TEMPORAL_BIN first and reports its version', async () => {
    const bin = join(tmp, 'temporal-from-env');
    await writeFile(bin, '#!/bin/sh\necho "temporal version 9.8.7 (Server 1.2.3, UI 4.5.6)"\n');
    await chmod(bin, 0o755);
    const check = await checkTemporalCli(loadConfig({ WORLDLOOP_TEMPORAL_BIN: bin }));
    expect(check).toMatchObject({ status: 'ok' });
    expect(check.detail).toBe(`${bin} (env): temporal version 9.8.7 (Server 1.2.3, UI 4.5.6)`);
  });

  it('finds the cached build in the tools dir when nothing else has one', async () => {
    const tools = join(tmp, 'tools');
    await mkdir(join(tools, 'bin'), { recursive: true });
    const bin = join(tools, 'bin', 'temporal');
    await writeFile(bin, '#!/bin/sh\necho "temporal version 1.5.1"\n');
    await chmod(bin, 0o755);
    const check = await checkTemporalCli(loadConfig({ PATH: join(tmp, 'empty-path'), WORLDLOOP_TOOLS_DIR: tools }));
    expect(check.detail).toBe(`${bin} (cache): temporal version 1.5.1`);
  });
});

describe('temporal server', () => {
  it('fails when TEMPORAL_ADDRESS points at something that is not Temporal', async () => {
    // A TCP port that accepts connections but never speaks gRPC: an open port is not readiness.
    const server = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      const check = await checkTemporalServer(loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }));
      expect(check.status).toBe('fail');
      expect(check.detail).toContain(`127.0.0.1:${port} does not answer`);
    } finally {
      server.close();
    }
  });
});

describe('verdict', () => {
  const rows: DoctorCheck[] = [
    { name: 'node', status: 'ok', detail: 'v20.19.0' },
    { name: 'oci registry', status: 'warn', detail: 'down', action: 'Run setup.' },
  ];

  it('warnings do not stop the main job; a failure does (exit 1)', () => {
    expect(doctorExitCode(rows)).toBe(0);
    expect(doctorExitCode([...rows, { name: 'docker engine', status: 'fail', detail: 'x', action: 'Start it.' }])).toBe(
      1,
    );
  });

  it('renders one row per check with its action underneath', () => {
    const out = renderDoctorTable(rows);
    expect(out).toContain('ok    node          v20.19.0');
    expect(out).toContain('warn  oci registry  down');
    expect(out).toContain('→ Run setup.');
    expect(out.trimEnd().endsWith('ready (1 warning(s)).')).toBe(true);
  });
});
