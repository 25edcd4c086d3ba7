// bench/frontdoor.ts — the front door (issue 10): every worldloop figure next to its floor, measured in the same
// run and interleaved round by round, so the noise of a shared machine hits both alike.
//
//   npx tsx bench/frontdoor.ts            (BENCH_N=20 by default; needs `bash scripts/setup.sh` first)
//
// Per round: `node -e 0`, `worldloop --help`, `worldloop path canon` (start-up); `worldloop run` from the shell,
// a cache hit and a miss, with the resident worker up; a bare hardened `docker run` of the same image; the loop
// in-process (client and worker in this process), a miss and a hit. Then throughput at 1, 2 and 4 concurrent runs:
// `worldloop run` from the shell, the in-process loop, and bare `docker run`. Prints a Markdown table of p50/p95.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, config } from '../src/config';
import { getEntry, loadRegistry, pinnedImage } from '../src/registry';
import { ensureOciRegistry } from '../src/oci/registry-server';
import { ensureDevServer } from '../src/temporal/dev-server';
import { preparedRegistryDir, startLoopHarness } from '../tests/integration/loop-harness';
import { bareRun, percentile } from './floor';

const exec = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 20);
const CLI = join(REPO_ROOT, 'bin', 'worldloop.js');

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const cfg = config();
  const [dev] = await Promise.all([ensureDevServer(cfg), ensureOciRegistry(cfg)]);
  process.stderr.write('building and pinning images (cached after the first run)…\n');
  const registryDir = await preparedRegistryDir();
  const image = pinnedImage(getEntry(await loadRegistry(registryDir, { root: REPO_ROOT }), 'text/stats@1'), 'amd64');
  // The shell's CLI: the embedded dev server and its resident worker, on this bench's registry.
  const env: NodeJS.ProcessEnv = { ...process.env, WORLDLOOP_REGISTRY_DIR: registryDir, WORLDLOOP_LOG_LEVEL: 'warn' };
  delete env['TEMPORAL_ADDRESS'];
  const node = (args: string[]) => exec(process.execPath, args, { env, maxBuffer: 16 << 20 });
  const cliRun = async (text: string) => {
    const { stdout } = await node([CLI, 'run', 'text/stats@1', '--inputs', JSON.stringify({ text }), '--json']);
    const envelope = JSON.parse(stdout) as { status: string; meta: { cache_hit: boolean } };
    if (envelope.status !== 'success') throw new Error(`run failed: ${stdout}`);
    return envelope.meta.cache_hit;
  };
  // The in-process loop: a client and a worker in this process, on its own task queue.
  const h = await startLoopHarness({ temporalAddress: dev.address, uiUrl: dev.uiUrl });
  const salt = `${Date.now()}`;
  const s: Record<string, number[]> = {};
  const add = (k: string, v: number) => (s[k] ??= []).push(v);
  try {
    // Warm-up: the resident worker, image pull, JIT, and the inputs the hits repeat.
    await cliRun(`hit ${salt}`);
    await h.run({ processor_ref: 'text/stats@1', inputs: { text: `hit ${salt}` } });
    await bareRun(image, 'warm');
    for (let i = 0; i < N; i++) {
      process.stderr.write(`round ${i + 1}/${N}\r`);
      add('node -e 0', await timed(() => node(['-e', '0'])));
      add('worldloop --help', await timed(() => node([CLI, '--help'])));
      add('worldloop path canon', await timed(() => node([CLI, 'path', 'canon', 'world://artifacts/a/b'])));
      add('worldloop run, cache hit (shell)', await timed(() => cliRun(`hit ${salt}`)));
      add('worldloop run, miss (shell)', await timed(() => cliRun(`miss ${salt} ${i}`)));
      add('bare docker run', await timed(() => bareRun(image, `bare ${salt} ${i}`)));
      const inputs = { text: `inproc ${salt} ${i}` };
      add('loop in-process, miss', await timed(() => h.run({ processor_ref: 'text/stats@1', inputs })));
      add('loop in-process, cache hit', await timed(() => h.run({ processor_ref: 'text/stats@1', inputs })));
    }
    const overhead = (k: string) => s[k]!.map((v, i) => v - s['bare docker run']![i]!);
    s['run miss (shell) − bare docker, paired'] = overhead('worldloop run, miss (shell)');
    s['loop in-process miss − bare docker, paired'] = overhead('loop in-process, miss');

    const throughput: string[] = [];
    for (const c of [1, 2, 4]) {
      const perMinute = async (one: (i: number) => Promise<unknown>) => {
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
      };
      const bare = await perMinute((i) => bareRun(image, `tp ${salt} ${c} ${i}`));
      const shell = await perMinute((i) => cliRun(`tp shell ${salt} ${c} ${i}`));
      const inproc = await perMinute((i) =>
        h.run({ processor_ref: 'text/stats@1', inputs: { text: `tp in ${salt} ${c} ${i}` } }),
      );
      throughput.push(
        `| ${c} | ${bare.toFixed(1)} | ${shell.toFixed(1)} (${(shell / bare).toFixed(2)}×) | ${inproc.toFixed(1)} (${(inproc / bare).toFixed(2)}×) |`,
      );
    }

    const f = (v: number) => `${v.toFixed(0)} ms`;
    const rows = [
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, N=${N}, text/stats@1 (mock); load average before the throughput part ${(await exec('cat', ['/proc/loadavg'])).stdout.split(' ').slice(0, 3).join(' ')}.`,
      '',
      '| measure | p50 | p95 |',
      '|---|---:|---:|',
      ...Object.entries(s).map(([k, v]) => `| ${k} | ${f(percentile(v, 50))} | ${f(percentile(v, 95))} |`),
      '',
      '| concurrent runs | bare docker run /min | worldloop run (shell) /min | loop in-process /min |',
      '|---:|---:|---:|---:|',
      ...throughput,
    ];
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await h.close();
  }
}

await main();
