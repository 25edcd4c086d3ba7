// bench/loop.ts — what the durable loop costs over a bare container, measured in one run on one machine.
//
//   npx tsx bench/loop.ts            (BENCH_N=20 by default)
//
// Interleaves, run by run, text/stats@1 through the whole loop (Admit → … → Re-check on the dev server)
// and `docker run` of the same pinned image with the same hardening, so machine noise hits both alike.
// Then: cache-hit latency, throughput at 1, 2 and 4 concurrent runs, and history sizes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT, config } from '../src/config';
import { getEntry, loadRegistry, pinnedImage } from '../src/registry';
import { ensureOciRegistry } from '../src/oci/registry-server';
import { ensureDevServer } from '../src/temporal/dev-server';
import { preparedRegistryDir, startLoopHarness } from '../tests/integration/loop-harness';
import { bareRun, percentile } from './floor';

const exec = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 20);

const ms = (v: number) => `${v.toFixed(0)} ms`;

async function main(): Promise<void> {
  const cfg = config();
  const [dev] = await Promise.all([ensureDevServer(cfg), ensureOciRegistry(cfg)]);
  process.stderr.write('building and pinning images (cached after the first run)…\n');
  const registryDir = await preparedRegistryDir();
  const entry = getEntry(await loadRegistry(registryDir, { root: REPO_ROOT }), 'text/stats@1');
  const image = pinnedImage(entry, 'amd64');
  const h = await startLoopHarness({ temporalAddress: dev.address, uiUrl: dev.uiUrl });
  const salt = `${Date.now()}`;
  try {
    // Warm-up: pull, first bundle, JIT.
    await h.run({ processor_ref: 'text/stats@1', inputs: { text: `warm ${salt}` }, cache: false });
    await bareRun(image, 'warm');

    const loop: number[] = [];
    const bare: number[] = [];
    const histories: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const { handle } = await h.start({
        processor_ref: 'text/stats@1',
        inputs: { text: `bench ${salt} ${i}` },
        cache: false,
      });
      await handle.result();
      loop.push(performance.now() - t0);
      histories.push((await handle.fetchHistory()).events?.length ?? 0);
      bare.push(await bareRun(image, `bench ${salt} ${i}`));
    }

    const hits: number[] = [];
    for (let i = 0; i < N; i++) {
      const inputs = { text: `hit ${salt} ${i}` };
      await h.run({ processor_ref: 'text/stats@1', inputs });
      const t0 = performance.now();
      const { handle } = await h.start({ processor_ref: 'text/stats@1', inputs });
      await handle.result();
      hits.push(performance.now() - t0);
      histories.push((await handle.fetchHistory()).events?.length ?? 0);
    }

    const throughput: { c: number; perMinute: number }[] = [];
    for (const c of [1, 2, 4]) {
      const total = 4 * c;
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (next < total) {
            const i = next++;
            await h.run({ processor_ref: 'text/stats@1', inputs: { text: `tp ${salt} ${c} ${i}` }, cache: false });
          }
        }),
      );
      throughput.push({ c, perMinute: (total / (performance.now() - t0)) * 60_000 });
    }

    const overhead = loop.map((v, i) => v - bare[i]!);
    const rows = [
      `Measured ${new Date().toISOString().slice(0, 10)} on this machine (2 cores, Docker ${(await exec('docker', ['version', '--format', '{{.Server.Version}}'])).stdout.trim()}), N=${N}, text/stats@1 in mock mode.`,
      '',
      '| measure | p50 | p95 |',
      '|---|---|---|',
      `| whole loop (start → result) | ${ms(percentile(loop, 50))} | ${ms(percentile(loop, 95))} |`,
      `| bare \`docker run\`, same image and hardening | ${ms(percentile(bare, 50))} | ${ms(percentile(bare, 95))} |`,
      `| overhead (loop − bare, paired) | ${ms(percentile(overhead, 50))} | ${ms(percentile(overhead, 95))} |`,
      `| ratio loop / bare | ${(percentile(loop, 50) / percentile(bare, 50)).toFixed(2)}× | ${(percentile(loop, 95) / percentile(bare, 95)).toFixed(2)}× |`,
      `| cache hit (start → result) | ${ms(percentile(hits, 50))} | ${ms(percentile(hits, 95))} |`,
      '',
      '| concurrent runs | runs per minute |',
      '|---|---|',
      ...throughput.map((t) => `| ${t.c} | ${t.perMinute.toFixed(1)} |`),
      '',
      `History events per run: min ${Math.min(...histories)}, max ${Math.max(...histories)} (cache misses and hits).`,
    ];
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await h.close();
  }
}

await main();
