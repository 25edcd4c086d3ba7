// bench/dev-server-sqlite-ab.ts — the embedded dev server's SQLite settings (ADR 0022), side by side in one run.
//
//   npx tsx bench/dev-server-sqlite-ab.ts        (BENCH_N=16 by default; after `bash scripts/setup.sh`)
//
// Starts two dev servers on fresh databases in a temporary folder: A with SQLite's defaults (a rollback journal,
// synchronous=FULL), B with worldloop's pragmas (SQLITE_PRAGMAS). One worker in this process per server. Round by
// round, in alternating order, text/stats@1 (mock) runs as a miss and then as a cache hit on each; prints p50/p95
// of start → result, the paired difference B − A, and each server's CPU per miss + hit.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { config } from '../src/config';
import { findTemporalCli } from '../src/temporal/cli-binary';
import { runEnvelope, startRun } from '../src/temporal/client';
import { SQLITE_PRAGMAS, devServerArgs, probeTemporal } from '../src/temporal/dev-server';
import { startLoopHarness, type LoopHarness } from '../tests/integration/loop-harness';
import { freePorts } from '../tests/integration/free-port';
import { percentile } from './floor';
import { statsRequest } from './stats-request';

const N = Number(process.env.BENCH_N ?? 16);

/** CPU time (user + system) of a process so far, in ms. */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

interface Side {
  name: string;
  server: ChildProcess;
  harness: LoopHarness;
  cpu: number;
}

async function startSide(name: string, dir: string, pragmas: readonly string[]): Promise<Side> {
  const cli = await findTemporalCli(config());
  const [port, uiPort] = (await freePorts(2)) as [number, number];
  const args = devServerArgs({
    port,
    uiPort,
    dbFile: join(dir, `${name}.sqlite`),
    namespace: 'default',
    sqlitePragmas: pragmas,
  });
  const server = spawn(cli.path, args, { stdio: 'ignore' });
  const address = `127.0.0.1:${port}`;
  for (let i = 0; !(await probeTemporal(address, 'default')); i++) {
    if (i > 100) throw new Error(`dev server ${name} did not answer on ${address}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const harness = await startLoopHarness({ temporalAddress: address, uiUrl: `http://127.0.0.1:${uiPort}` });
  return { name, server, harness, cpu: 0 };
}

async function run(side: Side, text: string): Promise<number> {
  const t0 = performance.now();
  const w = side.harness.worker!;
  const { handle } = await startRun(w.client, {
    taskQueue: side.harness.cfg.temporal.taskQueue,
    request: statsRequest(text),
    eager: true,
  });
  const envelope = await runEnvelope(handle);
  if (envelope.status !== 'success') throw new Error(`run failed: ${JSON.stringify(envelope)}`);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wl-bench-sqlite-'));
  const a = await startSide('A-defaults', dir, []);
  const b = await startSide('B-worldloop', dir, SQLITE_PRAGMAS);
  const s: Record<string, number[]> = {};
  const add = (k: string, v: number) => (s[k] ??= []).push(v);
  const salt = `${Date.now()}`;
  try {
    for (const side of [a, b]) await run(side, `warm ${salt}`);
    for (let i = 0; i < N; i++) {
      process.stderr.write(`round ${i + 1}/${N}\r`);
      const got: Record<string, { miss: number; hit: number }> = {};
      for (const side of i % 2 ? [b, a] : [a, b]) {
        const before = await cpuMs(side.server.pid!);
        const miss = await run(side, `sqlite ${salt} ${i}`);
        const hit = await run(side, `sqlite ${salt} ${i}`);
        side.cpu += (await cpuMs(side.server.pid!)) - before;
        got[side.name] = { miss, hit };
      }
      const [ga, gb] = [got[a.name]!, got[b.name]!];
      add('A miss', ga.miss);
      add('B miss', gb.miss);
      add('A cache hit', ga.hit);
      add('B cache hit', gb.hit);
      add('miss B − A, paired', gb.miss - ga.miss);
      add('cache hit B − A, paired', gb.hit - ga.hit);
    }
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    const f = (v: number) => `${v.toFixed(0)} ms`;
    process.stdout.write(
      [
        `N=${N}, load average ${load}; A: SQLite defaults, B: ${SQLITE_PRAGMAS.join(', ')}`,
        '',
        '| measure | p50 | p95 |',
        '|---|---:|---:|',
        ...Object.entries(s).map(([k, v]) => `| ${k} | ${f(percentile(v, 50))} | ${f(percentile(v, 95))} |`),
        '',
        `dev server CPU per miss + hit: A ${f(a.cpu / N)}, B ${f(b.cpu / N)}`,
        '',
      ].join('\n'),
    );
  } finally {
    for (const side of [a, b]) {
      await side.harness.close();
      side.server.kill();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
