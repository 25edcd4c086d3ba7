// bench/phases-ab.ts — what the phase activities themselves cost, two trees side by side, paired and interleaved.
//
//   npx tsx bench/phases-ab.ts [--baseline <git ref>] [--candidate <git ref>]   (default main and the working
//                                                                               tree; BENCH_N=40 by default)
//
// No Temporal server and no processor container: both trees' activities (createActivities) run over the same
// real world store, ledger and leases on local disk (the unit tests' phase harness), with a scripted adapter
// that writes a processor's out/ folder, so the figures are the activities' own work — their file writes,
// fsyncs, hashing and signing. The adapter's `discard` is the real one against the real Docker engine, on a
// container created (not started) for each execution, so Execute pays the engine's removal where it waits for
// it. Round by round, in alternating order: a miss (Admit, Reserve, Execute, Settle) and then a hit of the same
// inputs (Admit, cached Settle); it prints p50/p95 per phase and the paired differences B − A.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import type { createActivities } from '../activities';
import type { AdmitResult } from '../activities';
import { LABELS, containerName, createDockerAdapter } from '../src/adapters/docker/index';
import { connectDocker } from '../src/adapters/docker-engine';
import { config } from '../src/config';
import { WORKFLOW, echoScript, inActivity, phaseEnv, request } from '../tests/unit/phase-harness';
import { percentile } from './floor';
import { refTree } from './ref-tree';

const exec = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 40);
const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const BASELINE = flag('--baseline') ?? 'main';
const CANDIDATE = flag('--candidate');

type Activities = ReturnType<typeof createActivities>;

async function main(): Promise<void> {
  const env = await phaseEnv({ script: echoScript, budget: 1_000_000_000 });
  const docker = connectDocker(config());
  const real = createDockerAdapter({ docker });
  Object.assign(env.adapter, { discard: (id: string) => real.discard!(id) });
  const image = (await docker.listImages()).find((i) => (i.RepoDigests ?? []).length > 0)?.RepoDigests?.[0];
  if (!image) throw new Error('no local image to create containers from');
  const trees = { A: await refTree(BASELINE), B: CANDIDATE ? await refTree(CANDIDATE) : undefined };
  const load = async (root: string | undefined): Promise<Activities> => {
    const mod = (await import(join(root ?? join(import.meta.dirname, '..'), 'activities', 'index.ts'))) as {
      createActivities: typeof createActivities;
    };
    return mod.createActivities(env.deps);
  };
  const variants = [
    { name: 'A', acts: await load(trees.A) },
    { name: 'B', acts: await load(trees.B) },
  ];
  const s: Record<string, number[]> = {};
  const add = (k: string, v: number) => (s[k] ??= []).push(v);
  const timed = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await fn();
    add(key, performance.now() - t0);
    return out;
  };
  /** The container an execution's kept container would be: named and labelled for it, never started. */
  const containerFor = (id: string) =>
    docker.createContainer({ name: containerName(id), Image: image, Labels: { [LABELS.executionId]: id } });
  const gone = async (id: string) => {
    while (
      await docker
        .getContainer(containerName(id))
        .inspect()
        .then(
          () => true,
          () => false,
        )
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const salt = Date.now();
  try {
    for (let i = -2; i < N; i++) {
      if (i >= 0) process.stderr.write(`round ${i + 1}/${N}\r`);
      const order = i % 2 === 0 ? variants : [...variants].reverse();
      for (const { name, acts } of order) {
        // Two warm-up rounds (JIT, first directories) are not counted.
        const k = (phase: string) => (i >= 0 ? `${name} ${phase}` : `warm ${phase}`);
        const req = request({ inputs: { text: `phases ${name} ${salt} ${i}` } });
        const id = uuidv7();
        await containerFor(id);
        const admitted: AdmitResult = await timed(k('Admit (miss)'), () =>
          inActivity(acts.admit, { execution_id: id, request: req, write_prefix: `world://artifacts/runs/${id}/` }),
        );
        await inActivity(acts.reserve, { execution_id: id, plan: req.plan, admitted });
        const executed = await timed(k('Execute'), () =>
          inActivity(acts.execute, { execution_id: id, request: req, admitted }),
        );
        await timed(k('Settle'), () =>
          inActivity(acts.settle, { execution_id: id, request: req, admitted, executed, workflow: WORKFLOW }),
        );
        await gone(id); // a removal left to the background finishes before the next measurement
        const hitId = uuidv7();
        const hit = await timed(k('Admit (hit)'), () =>
          inActivity(acts.admit, {
            execution_id: hitId,
            request: req,
            write_prefix: `world://artifacts/runs/${hitId}/`,
          }),
        );
        if (!hit.cache_hit) throw new Error('expected a cache hit');
        await timed(k('cached Settle'), () =>
          inActivity(acts.settleCached, {
            execution_id: hitId,
            request: req,
            admitted: hit,
            record: hit.cache_hit!,
            workflow: WORKFLOW,
            started_at: new Date().toISOString(),
          }),
        );
      }
    }
    for (const phase of ['Admit (miss)', 'Execute', 'Settle', 'Admit (hit)', 'cached Settle']) {
      s[`B − A ${phase}, paired`] = s[`B ${phase}`]!.map((v, j) => v - s[`A ${phase}`]![j]!);
    }
    const loadavg = (await exec('cat', ['/proc/loadavg'])).stdout.split(' ').slice(0, 3).join(' ');
    const rows = [
      `A = activities at ${BASELINE}, B = ${CANDIDATE ? `activities at ${CANDIDATE}` : 'working tree'}; N=${N}, Node ${process.version}, load average ${loadavg}.`,
      '',
      '| measure | p50 | p95 |',
      '|---|---:|---:|',
      ...Object.entries(s)
        .filter(([k]) => !k.startsWith('warm'))
        .map(([k, v]) => `| ${k} | ${percentile(v, 50).toFixed(1)} ms | ${percentile(v, 95).toFixed(1)} ms |`),
    ];
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await env.cleanup();
    for (const dir of Object.values(trees)) if (dir) await rm(dir, { recursive: true, force: true });
  }
}

await main();
