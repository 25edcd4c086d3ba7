// bench/cli-ab.ts — `worldloop run` from the shell, two builds of the CLI side by side (issue 10): checkout A and
// checkout B (this one), each with its own state folder, dev server and resident worker, called alternately round
// by round (the order flips every round), so a shared machine's load hits both alike. Per call: wall time, the
// CLI process's own CPU (user + system, bench/cli-cpu-report.mjs) and its resident worker's CPU meanwhile.
//
//   CLI_AB_A=/path/to/other/checkout npx tsx bench/cli-ab.ts     (BENCH_N=16; CLI_AB_MISS=1 adds a cache miss)
//   CLI_AB_A=$PWD CLI_AB_B_ENV='{"NODE_COMPILE_CACHE":"/tmp/cc"}' npx tsx bench/cli-ab.ts   (one build, B's env differs)
//   CLI_AB_CONCURRENT=4 …   throughput instead: per round, 5 × 4 misses at 4 at a time for A and for B (runs/min)
//
// Both checkouts need a build (`node scripts/build.mjs`) and node_modules; both use this checkout's prepared
// registry. Prints p50/p95 of each and of the paired difference B − A, with the load average.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../src/config';
import { preparedRegistryDir } from '../tests/integration/loop-harness';
import { freePorts } from '../tests/integration/free-port';
import { percentile } from './floor';

const exec = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 16);
const MISS = process.env.CLI_AB_MISS === '1';
const CONCURRENT = Number(process.env.CLI_AB_CONCURRENT ?? 0);
const CPU_REPORT = join(REPO_ROOT, 'bench', 'cli-cpu-report.mjs');

interface Variant {
  readonly name: string;
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stateDir: string;
}

interface Sample {
  readonly wallMs: number;
  readonly cliCpuMs: number;
  readonly workerCpuMs: number;
}

const loadAverage = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

/** A process's CPU so far (user + system), from /proc, in ms (10 ms ticks). */
async function processCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const workerPid = async (v: Variant) =>
  Number((await readFile(join(v.stateDir, 'temporal', 'worker.pid'), 'utf8')).trim());

async function run(v: Variant, text: string, cpuFile: string): Promise<Sample> {
  const pid = await workerPid(v);
  const workerBefore = await processCpuMs(pid);
  const t0 = performance.now();
  const { stdout } = await exec(
    process.execPath,
    [
      '--import',
      CPU_REPORT,
      join(v.root, 'bin', 'worldloop.js'),
      'run',
      'text/stats@1',
      '--inputs',
      JSON.stringify({ text }),
      '--json',
    ],
    { env: { ...v.env, WORLDLOOP_CPU_REPORT: cpuFile }, maxBuffer: 16 << 20 },
  );
  const wallMs = performance.now() - t0;
  if ((JSON.parse(stdout) as { status: string }).status !== 'success') throw new Error(`${v.name}: ${stdout}`);
  const cpu = JSON.parse(await readFile(cpuFile, 'utf8')) as { user: number; system: number };
  return { wallMs, cliCpuMs: (cpu.user + cpu.system) / 1000, workerCpuMs: (await processCpuMs(pid)) - workerBefore };
}

/** Runs 5 × c misses of `v`, c at a time; runs per minute. */
async function throughput(v: Variant, c: number, salt: string, scratch: string): Promise<number> {
  const total = 5 * c;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async (_, lane) => {
      while (next < total) await run(v, `${salt} ${next++}`, join(scratch, `cpu-${v.name}-${lane}.json`));
    }),
  );
  return (total / (performance.now() - t0)) * 60_000;
}

async function main(): Promise<void> {
  const otherRoot = process.env.CLI_AB_A;
  if (!otherRoot) throw new Error('set CLI_AB_A to the checkout to compare this one with');
  const scratch = await mkdtemp(join(tmpdir(), 'wl-cli-ab-'));
  const registryDir = await preparedRegistryDir();
  const ports = await freePorts(4);
  const extraEnvB = JSON.parse(process.env.CLI_AB_B_ENV ?? '{}') as NodeJS.ProcessEnv;
  const variant = (name: string, root: string, i: number): Variant => {
    const stateDir = join(scratch, name);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...(name === 'B' ? extraEnvB : {}),
      WORLDLOOP_STATE_DIR: stateDir,
      WORLDLOOP_REGISTRY_DIR: registryDir,
      WORLDLOOP_TEMPORAL_PORT: String(ports[2 * i]),
      WORLDLOOP_UI_PORT: String(ports[2 * i + 1]),
      WORLDLOOP_TASK_QUEUE: `wl-cli-ab-${name}`,
      WORLDLOOP_METRICS_ADDR: 'off',
      WORLDLOOP_LOG_LEVEL: 'warn',
    };
    delete env['TEMPORAL_ADDRESS'];
    return { name, root, env, stateDir };
  };
  const variants = [variant('A', otherRoot, 0), variant('B', REPO_ROOT, 1)];
  const salt = `${Date.now()}`;
  const samples: Record<string, Sample[]> = {};
  try {
    // Warm-up: each variant's dev server, resident worker, image and the cache entry its hits repeat.
    for (const v of variants)
      await exec(process.execPath, [join(v.root, 'bin', 'worldloop.js'), 'server', 'start', '--json'], { env: v.env });
    for (const v of variants) for (let i = 0; i < 3; i++) await run(v, `hit ${salt}`, join(scratch, 'cpu.json'));
    const loadBefore = await loadAverage();
    if (CONCURRENT > 0) {
      const perMinute: Record<string, number[]> = { A: [], B: [] };
      for (let i = 0; i < N; i++) {
        process.stderr.write(`round ${i + 1}/${N}\r`);
        for (const v of i % 2 ? [...variants].reverse() : variants)
          perMinute[v.name]!.push(await throughput(v, CONCURRENT, `tp ${salt} ${i}`, scratch));
      }
      const { A: a, B: b } = perMinute as { A: number[]; B: number[] };
      const ratio = a.map((x, i) => b[i]! / x);
      process.stdout.write(
        [
          `${N} rounds of 5 × ${CONCURRENT} misses, ${CONCURRENT} at a time; A = ${otherRoot}, B = ${REPO_ROOT}; load average ${loadBefore} before, ${await loadAverage()} after.`,
          '',
          '| runs/min | p50 | min | max |',
          '|---|---:|---:|---:|',
          ...[
            ['A', a],
            ['B', b],
            ['B ÷ A, paired', ratio],
          ].map(
            ([k, xs]) =>
              `| ${k as string} | ${percentile(xs as number[], 50).toFixed(2)} | ${Math.min(...(xs as number[])).toFixed(2)} | ${Math.max(...(xs as number[])).toFixed(2)} |`,
          ),
        ].join('\n') + '\n',
      );
      return;
    }
    for (let i = 0; i < N; i++) {
      process.stderr.write(`round ${i + 1}/${N}\r`);
      for (const v of i % 2 ? [...variants].reverse() : variants) {
        (samples[`${v.name} hit`] ??= []).push(await run(v, `hit ${salt}`, join(scratch, 'cpu.json')));
        if (MISS) (samples[`${v.name} miss`] ??= []).push(await run(v, `miss ${salt} ${i}`, join(scratch, 'cpu.json')));
      }
    }
    process.stdout.write(`${report(samples, otherRoot, { before: loadBefore, after: await loadAverage() })}\n`);
  } finally {
    for (const v of variants)
      await exec(process.execPath, [join(v.root, 'bin', 'worldloop.js'), 'server', 'stop', '--json'], {
        env: v.env,
      }).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

function report(s: Record<string, Sample[]>, otherRoot: string, load: { before: string; after: string }): string {
  const f = (xs: number[]) => `${percentile(xs, 50).toFixed(1)} | ${percentile(xs, 95).toFixed(1)}`;
  const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
  const rows: string[] = [];
  for (const kind of MISS ? ['hit', 'miss'] : ['hit']) {
    const a = s[`A ${kind}`]!;
    const b = s[`B ${kind}`]!;
    for (const [label, xs] of [
      [`A ${kind}`, a],
      [`B ${kind}`, b],
    ] as const)
      rows.push(
        `| ${label} | ${f(xs.map((x) => x.wallMs))} | ${f(xs.map((x) => x.cliCpuMs))} | ${mean(xs.map((x) => x.workerCpuMs))} |`,
      );
    const diff = (k: keyof Sample) => a.map((x, i) => b[i]![k] - x[k]);
    rows.push(
      `| B − A ${kind}, paired | ${f(diff('wallMs'))} | ${f(diff('cliCpuMs'))} | ${mean(diff('workerCpuMs'))} |`,
    );
  }
  return [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, N=${N} rounds; A = ${otherRoot}, B = ${REPO_ROOT}${process.env.CLI_AB_B_ENV ? ` with ${process.env.CLI_AB_B_ENV}` : ''}; worker CPU from /proc in 10 ms ticks; load average ${load.before} before, ${load.after} after.`,
    '',
    '| `worldloop run --json`, text/stats@1 | wall p50 (ms) | wall p95 | CLI CPU p50 (ms) | CLI CPU p95 | worker CPU mean (ms) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

await main();
