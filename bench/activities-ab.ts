// bench/activities-ab.ts — does a change to what the phase activities do make runs faster? Paired and interleaved.
//
//   npx tsx bench/activities-ab.ts [--baseline <git ref>] [--candidate <git ref>]   (default main and the
//                                                            working tree; BENCH_N=12 by default)
//   BENCH_CPU_PROFILE=1 … --only B                            (one variant, for `node --cpu-prof` of the worker side)
//
// Two workers in this process run the same workflow code (the working tree's) on two task queues. Worker A
// serves the activities of the baseline ref (its `activities/` and `src/`, extracted with `git archive` into a
// temporary folder), worker B those of the working tree. Round by round, in alternating order, it runs
// text/stats@1 (mock) as a miss and then as a cache hit on each, then 4 concurrent misses on each; it prints
// p50/p95 of start → result, the paired difference B − A, and the worker process's CPU time per run.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import type { createActivities } from '../activities';
import { REPO_ROOT, type Config } from '../src/config';
import { createLogger } from '../src/log';
import { runEnvelope, startRun } from '../src/temporal/client';
import { exactNumbersCodec } from '../src/temporal/exact-numbers-codec';
import type { buildActivityDeps } from '../src/temporal/worker';
import { openWorld } from '../src/world';
import { decodePayload, type HistoryEvent } from '../src/temporal/history-events';
import { percentile } from './floor';
import { benchConfig, refTree } from './ref-tree';
import { statsRequest } from './stats-request';

const exec = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 12);
const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const BASELINE = flag('--baseline') ?? 'main';
/** B's ref; without one, B runs the working tree as it is when the workers start. */
const CANDIDATE = flag('--candidate');
const ONLY = flag('--only');
const CONCURRENT = 4;

type ActivitiesModule = { createActivities: typeof createActivities };
type WorkerModule = { buildActivityDeps: typeof buildActivityDeps };

/** The activities of one source tree, built the way the worker builds them. */
async function activitiesOf(root: string, cfg: Config, client: Client): Promise<object> {
  const acts = (await import(join(root, 'activities', 'index.ts'))) as ActivitiesModule;
  const wrk = (await import(join(root, 'src', 'temporal', 'worker.ts'))) as WorkerModule;
  return acts.createActivities(await wrk.buildActivityDeps(cfg, client, createLogger({ level: 'error' })));
}

async function main(): Promise<void> {
  const { cfg, address } = await benchConfig('wl-act-ab-state-');
  const tree = await refTree(BASELINE);
  const connection = await NativeConnection.connect({ address: address });
  const client = new Client({ connection, namespace: cfg.temporal.namespace });
  const salt = `${Date.now()}`;
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: join(REPO_ROOT, 'workflows', 'index.ts'),
    logger: { ...silent },
  });
  const candidate = CANDIDATE ? await refTree(CANDIDATE) : undefined;
  const roots = { A: tree, B: candidate ?? REPO_ROOT };
  const names = (ONLY ? [ONLY] : ['A', 'B']) as ('A' | 'B')[];
  const workers = await Promise.all(
    names.map(async (name) => {
      const taskQueue = `wl-act-ab-${name}-${salt}`;
      const worker = await Worker.create({
        connection,
        namespace: cfg.temporal.namespace,
        taskQueue,
        workflowBundle,
        dataConverter: { payloadCodecs: [exactNumbersCodec] },
        activities: await activitiesOf(roots[name], cfg, client),
      });
      return { name, taskQueue, worker, done: worker.run() };
    }),
  );
  await openWorld(cfg).ledger.createPlan('default', 10_000_000);
  const s: Record<string, number[]> = {};
  const add = (k: string, v: number) => (s[k] ??= []).push(v);
  const run = async ({ taskQueue, name }: (typeof workers)[number], text: string, phases = false) => {
    const t0 = performance.now();
    const { handle } = await startRun(client, { taskQueue, request: statsRequest(text), eager: true });
    const envelope = await runEnvelope(handle);
    if (envelope.status !== 'success') throw new Error(`run failed: ${JSON.stringify(envelope)}`);
    const elapsed = performance.now() - t0;
    if (phases) {
      for (const [k, v] of Object.entries(phaseTimes((await handle.fetchHistory()).events ?? [])))
        add(`${name} ${k}`, v);
    }
    return elapsed;
  };
  const cpu: Record<string, number> = {};
  const runs: Record<string, number> = {};
  /** Runs `fn` and charges this process's CPU time to `name` (the client side is the same for A and B). */
  const charged = async <T>(name: string, count: number, fn: () => Promise<T>): Promise<T> => {
    const before = process.cpuUsage();
    const out = await fn();
    const used = process.cpuUsage(before);
    cpu[name] = (cpu[name] ?? 0) + (used.user + used.system) / 1000;
    runs[name] = (runs[name] ?? 0) + count;
    return out;
  };
  try {
    for (const w of workers) await run(w, `warm ${w.name} ${salt}`);
    for (let i = 0; i < N; i++) {
      process.stderr.write(`round ${i + 1}/${N}\r`);
      const order = i % 2 === 0 ? workers : [...workers].reverse();
      for (const w of order) {
        const text = `ab ${w.name} ${salt} ${i}`;
        add(`${w.name} miss`, await charged(w.name, 1, () => run(w, text, true)));
        add(`${w.name} cache hit`, await charged(w.name, 1, () => run(w, text)));
      }
      for (const w of order) {
        const t0 = performance.now();
        await charged(w.name, CONCURRENT, () =>
          Promise.all(Array.from({ length: CONCURRENT }, (_, j) => run(w, `ab4 ${w.name} ${salt} ${i} ${j}`))),
        );
        add(`${w.name} ${CONCURRENT} concurrent misses (batch)`, performance.now() - t0);
      }
    }
    if (!ONLY) {
      const paired = (k: string) => s[`B ${k}`]!.map((v, i) => v - s[`A ${k}`]![i]!);
      s['B − A miss, paired'] = paired('miss');
      s['B − A Execute after the container exited, paired'] = paired('Execute after the container exited');
      s['B − A Settle, paired'] = paired('Settle');
      s['B − A cache hit, paired'] = paired('cache hit');
      s[`B − A ${CONCURRENT} concurrent, paired`] = paired(`${CONCURRENT} concurrent misses (batch)`);
    }
    const load = (await exec('cat', ['/proc/loadavg'])).stdout.split(' ').slice(0, 3).join(' ');
    const rows = [
      `A = activities at ${BASELINE}, B = ${CANDIDATE ? `activities at ${CANDIDATE}` : 'working tree'}; N=${N}, Node ${process.version}, load average ${load}.`,
      '',
      '| measure | p50 | p95 |',
      '|---|---:|---:|',
      ...Object.entries(s).map(
        ([k, v]) => `| ${k} | ${percentile(v, 50).toFixed(0)} ms | ${percentile(v, 95).toFixed(0)} ms |`,
      ),
      '',
      ...names.map((n) => `CPU of this process per run, ${n}: ${(cpu[n]! / runs[n]!).toFixed(1)} ms`),
    ];
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.done));
    await connection.close();
    for (const dir of [tree, candidate]) if (dir) await rm(dir, { recursive: true, force: true });
    await rm(cfg.stateDir, { recursive: true, force: true });
  }
}

const timeOf = (e: HistoryEvent): number =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/**
 * From a miss's history: Execute from the container's exit (the engine's FinishedAt, in Execute's result) to
 * its completion event, and Settle from its start to its completion event.
 */
function phaseTimes(events: readonly HistoryEvent[]): Record<string, number> {
  const typeOf = new Map<string, string>();
  const startedAt = new Map<string, number>();
  const out: Record<string, number> = {};
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started) startedAt.set(typeOf.get(String(started.scheduledEventId)) ?? '', timeOf(e));
    const done = e.activityTaskCompletedEventAttributes;
    const type = done ? typeOf.get(String(done.scheduledEventId)) : undefined;
    if (type === 'execute') {
      const result = decodePayload<{ finished_at: string }>(done?.result?.payloads?.[0]);
      if (result) out['Execute after the container exited'] = timeOf(e) - Date.parse(result.finished_at);
    }
    if (type === 'settle') out['Settle'] = timeOf(e) - startedAt.get('settle')!;
  }
  return out;
}

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

await main();
