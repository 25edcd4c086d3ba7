// `worldloop plan …` and `worldloop world …` through the real binary, against a temporary state folder.
import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usdToMicro, microToUsd } from '../../src/cli/commands/plan';
import { WorldloopError } from '../../src/contracts/errors';
import { canonicalize } from '../../src/hashing';
import { Ledger } from '../../src/world/ledger';
import { LocalObjectStore } from '../../src/world/local-object-store';
import { WorldStore } from '../../src/world/world-store';

let state: string;

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string; raw: Buffer } {
  const r = spawnSync(process.execPath, ['bin/worldloop.js', ...args], {
    env: { ...process.env, WORLDLOOP_STATE_DIR: state, CI: '' },
    encoding: 'buffer',
  });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'worldloop-cli-'));
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

describe('USD ↔ micro-dollars', () => {
  it('converts exactly, without floats', () => {
    expect(usdToMicro('10')).toBe(10_000_000);
    expect(usdToMicro('0.000001')).toBe(1);
    expect(usdToMicro('0.1')).toBe(100_000);
    expect(usdToMicro('19.99')).toBe(19_990_000);
    expect(microToUsd(19_990_000)).toBe('$19.990000');
    for (const bad of ['-1', 'NaN', '1e3', '1.0000001', '', ' ', '1,5', '0x10', 'Infinity', '9'.repeat(20)]) {
      expect(() => usdToMicro(bad), bad).toThrow(WorldloopError);
    }
  });
});

describe('worldloop plan', () => {
  it('create, show and verify a plan; refuse a different budget and bad amounts', () => {
    const created = cli('plan', 'create', 'cli-plan', '--budget-usd', '1.5', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ ok: true, created: true, plan: { budget_micro: 1_500_000 } });
    expect(cli('plan', 'create', 'cli-plan', '--budget-usd', '1.50').code).toBe(0);
    const exists = cli('plan', 'create', 'cli-plan', '--budget-usd', '2');
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/^ERR_PLAN_EXISTS: /);
    for (const bad of ['-1', '0.0000001']) {
      const r = cli('plan', 'create', 'other', '--budget-usd', bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toMatch(/^ERR_USAGE: /);
    }
    expect(cli('plan', 'create', 'no-budget').stderr).toMatch(/^ERR_USAGE: /);
    const show = cli('plan', 'show', 'cli-plan');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('$1.500000');
    expect(show.stdout).toMatch(/1 events, head [0-9a-f]{64}/);
    expect(cli('plan', 'verify', 'cli-plan').stdout).toMatch(/^plan cli-plan: ledger verifies \(1 events/);
    const missing = cli('plan', 'show', 'missing', '--json');
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, code: 'ERR_PLAN_NOT_FOUND' });
  });

  it('show reflects reservations made by the engine; verify exits 1 with ERR_LEDGER_BROKEN on a tampered chain', async () => {
    expect(cli('plan', 'create', 'tamper', '--budget-usd', '1').code).toBe(0);
    const ledger = new Ledger(new LocalObjectStore(join(state, 'world')));
    await ledger.reserve('tamper', 'exec-a', 300_000);
    await ledger.charge('tamper', 'exec-a', 120_000);
    await ledger.reserve('tamper', 'exec-b', 200_000);
    const show = JSON.parse(cli('plan', 'show', 'tamper', '--json', '--reservations').stdout) as {
      plan: Record<string, unknown>;
    };
    expect(show.plan).toMatchObject({
      budget_micro: 1_000_000,
      reserved_micro: 200_000,
      spent_micro: 120_000,
      available_micro: 680_000,
      available_usd: '$0.680000',
      events: 4,
      executions: { reserved: 1, charged: 1, released: 0 },
    });
    const good = JSON.parse(cli('plan', 'verify', 'tamper', '--json').stdout) as { head: { hash: string } };
    expect(cli('plan', 'verify', 'tamper', '--expect-head', good.head.hash).code).toBe(0);
    expect(cli('plan', 'verify', 'tamper', '--expect-head', '0'.repeat(64)).code).toBe(1);

    const file = join(state, 'world', 'plans', 'tamper', 'events', '000000000003');
    const event = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await unlink(file);
    await writeFile(file, canonicalize({ ...event, amount_micro: 1 }));
    const broken = cli('plan', 'verify', 'tamper');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^ERR_LEDGER_BROKEN: plan tamper: event 4: prev/);
    const brokenJson = cli('plan', 'verify', 'tamper', '--json');
    expect(brokenJson.code).toBe(1);
    expect(JSON.parse(brokenJson.stdout)).toMatchObject({ ok: false, code: 'ERR_LEDGER_BROKEN', events: 3 });
    expect(cli('plan', 'show', 'tamper').stderr).toMatch(/^ERR_LEDGER_BROKEN/);
  });
});

describe('worldloop world', () => {
  const text = 'hello world\n';
  beforeAll(async () => {
    const world = new WorldStore(new LocalObjectStore(join(state, 'world')));
    for (const [path, body] of [
      ['world://artifacts/demo/a.txt', text],
      ['world://artifacts/demo/sub/b.json', '{"b":1}'],
      ['world://artifacts/demo/rotten', 'will rot'],
    ] as const) {
      const d = await world.putBlob(new TextEncoder().encode(body));
      await world.bind(path, { ...d, mime: 'text/plain', execution_id: 'exec-cli' });
    }
    await world.quarantine('world://artifacts/demo/sub/b.json', { execution_id: 'exec-cli', reason: 'test' });
    const rotten = (await world.stat('world://artifacts/demo/rotten'))!;
    await appendFile(join(state, 'world', 'blobs', 'blake3', rotten.blake3), 'x');
  });

  it('ls lists paths, sizes, short digests and quarantine flags', () => {
    const ls = cli('world', 'ls', 'world://artifacts/demo/');
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^world:\/\/artifacts\/demo\/a\.txt\s+12 B\s+b3:[0-9a-f]{12}$/);
    expect(lines[2]).toMatch(/^world:\/\/artifacts\/demo\/sub\/b\.json .*QUARANTINED$/);
    const json = JSON.parse(cli('world', 'ls', '/artifacts/demo/sub/', '--json').stdout) as {
      entries: { path: string; quarantined: boolean; sha256: string }[];
    };
    expect(json.entries).toEqual([
      expect.objectContaining({ path: 'world://artifacts/demo/sub/b.json', quarantined: true }),
    ]);
    const notPrefix = cli('world', 'ls', 'world://artifacts/demo');
    expect(notPrefix.code).toBe(2);
    expect(notPrefix.stderr).toMatch(/^ERR_SELECTOR_KIND_MISMATCH/);
  });

  it('cat prints verified bytes, and refuses rotten or missing ones', () => {
    const cat = cli('world', 'cat', 'world://artifacts/demo/a.txt');
    expect(cat.code).toBe(0);
    expect(cat.raw.toString('utf8')).toBe(text);
    const rotten = cli('world', 'cat', 'world://artifacts/demo/rotten');
    expect(rotten.code).toBe(1);
    expect(rotten.stdout).toBe('');
    expect(rotten.stderr).toMatch(/^ERR_DIGEST_MISMATCH/);
    expect(cli('world', 'cat', 'world://artifacts/demo/none').stderr).toMatch(/^ERR_NOT_FOUND/);
  });

  it('get writes a verified file and refuses to overwrite without --force', async () => {
    const out = join(state, 'a.txt');
    expect(cli('world', 'get', 'world://artifacts/demo/a.txt', '-o', out).code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(text);
    const again = cli('world', 'get', 'world://artifacts/demo/a.txt', '-o', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^ERR_USAGE: .*--force/);
    await writeFile(out, 'changed');
    const forced = cli('world', 'get', 'world://artifacts/demo/a.txt', '-o', out, '--force', '--json');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ ok: true, size_bytes: 12 });
    expect(await readFile(out, 'utf8')).toBe(text);
    const rotten = cli('world', 'get', 'world://artifacts/demo/rotten', '-o', join(state, 'r.txt'));
    expect(rotten.code).toBe(1);
    expect(rotten.stderr).toMatch(/^ERR_DIGEST_MISMATCH/);
    await expect(readFile(join(state, 'r.txt'))).rejects.toThrow();
  });
});
