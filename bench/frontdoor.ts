// bench/frontdoor.ts — the front door (issue 10): every worldloop figure next to its floor, measured in the same
// run and interleaved round by round, so the noise of a shared machine hits both alike.
//
//   npx tsx bench/frontdoor.ts            (BENCH_N=20 by default; needs `bash scripts/setup.sh` first)
//
// Per round: `node -e 0`, `worldloop --help`, `worldloop path canon` (start-up); `worldloop run` from the shell,
// a cache hit and a miss, with the resident worker up; a bare hardened `docker run` of the same image; the loop
// in-process (a worker in this process, runs started eagerly on its own connection as the resident worker starts
// them), a miss and a hit. Then throughput at 1, 2 and 4 concurrent runs: bare `docker run`, `worldloop run` from
// the shell and the in-process loop, interleaved by concurrency. Prints Markdown: p50/p95 with the ratio to each
// figure's floor, throughput with ratios, and issue 10's targets, met or missed, from the same figures.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, config, loadConfig } from '../src/config';
import { getEntry, loadRegistry, pinnedImage } from '../src/registry';
import { ensureOciRegistry } from '../src/oci/registry-server';
import { runEnvelope, startRun } from '../src/temporal/client';
import { ensureDevServer } from '../src/temporal/dev-server';
import { stopResidentWorker } from '../src/temporal/resident-worker';
import { preparedRegistryDir, startLoopHarness } from '../tests/integration/loop-harness';
import { bareRun, percentile } from './floor';
import { statsRequest } from './stats-request';

const exec = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 20);
const CLI = join(REPO_ROOT, 'bin', 'worldloop.js');
const BARE = 'bare docker run';

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const loadAverage = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

/** Runs `one(i)` for i < 5·c with c at a time; runs per minute. */
async function perMinute(c: number, one: (i: number) => Promise<unknown>): Promise<number> {
  const total = 5 * c;
  let next = 0;
  const ms = await timed(() =>
    Promise.all(
      Array.from({ length: c }, async () => {
        while (next < total) await one(next++);
      }),
    ),
  );
  return (total / ms) * 60_000;
}

async function main(): Promise<void> {
  const [dev] = await Promise.all([ensureDevServer(config()), ensureOciRegistry(config())]);
  process.stderr.write('building and pinning images (cached after the first run)…\n');
  const registryDir = await preparedRegistryDir();
  const image = pinnedImage(getEntry(await loadRegistry(registryDir, { root: REPO_ROOT }), 'text/stats@1'), 'amd64');
  // The shell's CLI: the embedded dev server and its resident worker, on this bench's registry. The resident worker
  // is replaced so it serves that registry (its identity is the build, queue and server, not the registry folder).
  const env: NodeJS.ProcessEnv = { ...process.env, WORLDLOOP_REGISTRY_DIR: registryDir, WORLDLOOP_LOG_LEVEL: 'warn' };
  delete env['TEMPORAL_ADDRESS'];
  await stopResidentWorker(loadConfig(env));
  const node = (args: string[]) => exec(process.execPath, args, { env, maxBuffer: 16 << 20 });
  const cliRun = async (text: string) => {
    const { stdout } = await node([CLI, 'run', 'text/stats@1', '--inputs', JSON.stringify({ text }), '--json']);
    const envelope = JSON.parse(stdout) as { status: string; meta: { cache_hit: boolean } };
    if (envelope.status !== 'success') throw new Error(`run failed: ${stdout}`);
    return envelope.meta.cache_hit;
  };
  // The in-process loop: a worker in this process on its own task queue; runs start on the worker's own native
  // connection with eager start, as the resident worker starts the runs the CLI hands it.
  const h = await startLoopHarness({ temporalAddress: dev.address, uiUrl: dev.uiUrl });
  const inProcess = async (text: string) => {
    const request = statsRequest(text);
    const { handle } = await startRun(h.worker!.client, { taskQueue: h.cfg.temporal.taskQueue, request, eager: true });
    const envelope = await runEnvelope(handle);
    if (envelope.status !== 'success') throw new Error(`run failed: ${JSON.stringify(envelope)}`);
    return envelope.meta.cache_hit;
  };
  const salt = `${Date.now()}`;
  const s: Record<string, number[]> = {};
  const add = (k: string, v: number) => (s[k] ??= []).push(v);
  const loadBefore = await loadAverage();
  try {
    // Warm-up: the resident worker, image pull, JIT, and the inputs the shell's hits repeat.
    await cliRun(`hit ${salt}`);
    await inProcess(`warm ${salt}`);
    await bareRun(image, 'warm');
    for (let i = 0; i < N; i++) {
      process.stderr.write(`round ${i + 1}/${N}\r`);
      add('node -e 0', await timed(() => node(['-e', '0'])));
      add('worldloop --help', await timed(() => node([CLI, '--help'])));
      add('worldloop path canon', await timed(() => node([CLI, 'path', 'canon', 'world://artifacts/a/b'])));
      add('worldloop run, cache hit (shell)', await timed(() => cliRun(`hit ${salt}`)));
      add('worldloop run, miss (shell)', await timed(() => cliRun(`miss ${salt} ${i}`)));
      add(BARE, await timed(() => bareRun(image, `bare ${salt} ${i}`)));
      const text = `inproc ${salt} ${i}`;
      add('loop in-process, miss', await timed(() => inProcess(text)));
      add('loop in-process, cache hit', await timed(() => inProcess(text)));
    }
    const overhead = (k: string) => s[k]!.map((v, i) => v - s[BARE]![i]!);
    s['run miss (shell) − bare docker, paired'] = overhead('worldloop run, miss (shell)');
    s['loop in-process miss − bare docker, paired'] = overhead('loop in-process, miss');
    const loadMiddle = await loadAverage();

    const throughput: Record<number, { bare: number; shell: number; inproc: number }> = {};
    for (const c of [1, 2, 4]) {
      const bare = await perMinute(c, (i) => bareRun(image, `tp ${salt} ${c} ${i}`));
      const shell = await perMinute(c, (i) => cliRun(`tp shell ${salt} ${c} ${i}`));
      const inproc = await perMinute(c, (i) => inProcess(`tp in ${salt} ${c} ${i}`));
      throughput[c] = { bare, shell, inproc };
    }
    const loadAfter = await loadAverage();
    process.stdout.write(`${report(s, throughput, { before: loadBefore, middle: loadMiddle, after: loadAfter })}\n`);
  } finally {
    await h.close();
  }
}

/** Each measure's floor, for the ratio column. */
const FLOOR: Record<string, string> = {
  'worldloop --help': 'node -e 0',
  'worldloop path canon': 'node -e 0',
  'worldloop run, cache hit (shell)': BARE,
  'worldloop run, miss (shell)': BARE,
  'loop in-process, miss': BARE,
  'loop in-process, cache hit': BARE,
};

function report(
  s: Record<string, number[]>,
  tp: Record<number, { bare: number; shell: number; inproc: number }>,
  load: { before: string; middle: string; after: string },
): string {
  const p = (k: string, q: number) => percentile(s[k]!, q);
  const f = (v: number) => `${v.toFixed(0)} ms`;
  const ratio = (k: string) => (FLOOR[k] ? `${(p(k, 50) / p(FLOOR[k], 50)).toFixed(2)}× ${FLOOR[k]}` : '');
  const met = (ok: boolean) => (ok ? 'met' : '**missed**');
  const targets: [string, string, boolean][] = [
    ['`--help` p50 ≤ 150 ms', f(p('worldloop --help', 50)), p('worldloop --help', 50) <= 150],
    ['`path canon` p50 ≤ 150 ms', f(p('worldloop path canon', 50)), p('worldloop path canon', 50) <= 150],
    [
      'cache hit from the shell p50 ≤ 300 ms',
      f(p('worldloop run, cache hit (shell)', 50)),
      p('worldloop run, cache hit (shell)', 50) <= 300,
    ],
    [
      'cache hit in-process p50 ≤ 30 ms',
      f(p('loop in-process, cache hit', 50)),
      p('loop in-process, cache hit', 50) <= 30,
    ],
    [
      'miss from the shell p50 ≤ bare + 150 ms (paired overhead)',
      f(p('run miss (shell) − bare docker, paired', 50)),
      p('run miss (shell) − bare docker, paired', 50) <= 150,
    ],
    [
      'in-process overhead p50 ≤ 50 ms (paired)',
      f(p('loop in-process miss − bare docker, paired', 50)),
      p('loop in-process miss − bare docker, paired', 50) <= 50,
    ],
    [
      '4 concurrent from the shell ≥ 0.8× bare',
      `${(tp[4]!.shell / tp[4]!.bare).toFixed(2)}×`,
      tp[4]!.shell >= 0.8 * tp[4]!.bare,
    ],
    [
      '4 concurrent in-process ≥ 0.8× bare',
      `${(tp[4]!.inproc / tp[4]!.bare).toFixed(2)}×`,
      tp[4]!.inproc >= 0.8 * tp[4]!.bare,
    ],
  ];
  return [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, N=${N}, text/stats@1 (mock); load average ${load.before} before, ${load.middle} after the rounds, ${load.after} after the throughput part.`,
    '',
    '| measure | p50 | p95 | p50 ratio to its floor |',
    '|---|---:|---:|---|',
    ...Object.keys(s).map((k) => `| ${k} | ${f(p(k, 50))} | ${f(p(k, 95))} | ${ratio(k)} |`),
    '',
    '| concurrent runs | bare docker run /min | worldloop run (shell) /min | loop in-process /min |',
    '|---:|---:|---:|---:|',
    ...Object.entries(tp).map(
      ([c, t]) =>
        `| ${c} | ${t.bare.toFixed(1)} | ${t.shell.toFixed(1)} (${(t.shell / t.bare).toFixed(2)}×) | ${t.inproc.toFixed(1)} (${(t.inproc / t.bare).toFixed(2)}×) |`,
    ),
    '',
    '| target (issue 10) | measured | |',
    '|---|---:|---|',
    ...targets.map(([name, value, ok]) => `| ${name} | ${value} | ${met(ok)} |`),
  ].join('\n');
}

await main();
