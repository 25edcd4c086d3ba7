// bench/workflow-ab.ts — does a change to the loop's Temporal side make it faster? Paired and interleaved, one run.
//
//   npx tsx bench/workflow-ab.ts [--baseline <git ref>]     (default main; BENCH_N=20 by default)
//   npx tsx bench/workflow-ab.ts --eager                     (eager workflow start against a queued start)
//   npx tsx bench/workflow-ab.ts --eager-activities          (activity tasks in the workflow task's reply)
//
// Two workers in this process serve the same activities on two task queues. By default one runs the workflow
// code of the working tree (B) and one the workflow code of the baseline ref (A, extracted with `git archive`
// into a temporary folder). With --eager both run the working tree's code, A started by a client on its own
// gRPC connection (the first workflow task goes through the task queue), B by a client on the workers' native
// connection asking for eager start (the task comes back in the start reply). With --eager-activities both start
// eagerly and A's worker reserves no slot for eager activity dispatch (the server must enable it:
// system.enableActivityEagerExecution; TEMPORAL_ADDRESS picks a server other than the dev server). Round by round, in alternating
// order, it runs text/stats@1 (mock) as a miss and then as a cache hit on each, and prints p50/p95 of
// start → result and the paired difference B − A. A miss is also shown without its Execute activity (start → result
// minus Execute's started → completed in the history): the container's own time is the same on both sides and its
// noise would hide what the workflow's side costs.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { REPO_ROOT } from '../src/config';
import { createLogger } from '../src/log';
import { runEnvelope, startRun } from '../src/temporal/client';
import { exactNumbersCodec } from '../src/temporal/exact-numbers-codec';
import { buildActivityDeps } from '../src/temporal/worker';
import { openWorld } from '../src/world';
import { percentile } from './floor';
import { benchConfig, refTree } from './ref-tree';
import { statsRequest } from './stats-request';

const exec = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 20);
const baselineAt = process.argv.indexOf('--baseline');
const BASELINE = baselineAt > 0 ? process.argv[baselineAt + 1]! : 'main';
const EAGER_ACTIVITIES = process.argv.includes('--eager-activities');
const EAGER = EAGER_ACTIVITIES || process.argv.includes('--eager');

async function main(): Promise<void> {
  const { cfg, address } = await benchConfig('wl-ab-state-');
  const tree = await refTree(BASELINE);
  const connection = await NativeConnection.connect({ address: address });
  const client = new Client({ connection, namespace: cfg.temporal.namespace });
  const queued = new Client({ connection: await Connection.connect({ address: address }) });
  const logger = createLogger({ level: 'error' });
  const activities = createActivities(await buildActivityDeps(cfg, client, logger));
  const salt = `${Date.now()}`;
  const current = join(REPO_ROOT, 'workflows', 'index.ts');
  const variants = {
    A: {
      workflowsPath: EAGER ? current : join(tree, 'workflows', 'index.ts'),
      client: EAGER && !EAGER_ACTIVITIES ? queued : client,
      eager: EAGER_ACTIVITIES,
      eagerActivities: !EAGER_ACTIVITIES,
    },
    B: { workflowsPath: current, client, eager: EAGER, eagerActivities: true },
  };
  const workers = await Promise.all(
    Object.entries(variants).map(async ([name, { workflowsPath, client, eager, eagerActivities }]) => {
      const taskQueue = `wl-ab-${name}-${salt}`;
      const worker = await Worker.create({
        connection,
        namespace: cfg.temporal.namespace,
        taskQueue,
        workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: { ...silent } }),
        dataConverter: { payloadCodecs: [exactNumbersCodec] },
        activities,
        ...(eagerActivities ? {} : { maxEagerActivityReservationsPerWorkflowTask: 0 }),
      });
      return { name, taskQueue, client, eager, worker, done: worker.run() };
    }),
  );
  await openWorld(cfg).ledger.createPlan('default', 10_000_000);
  const run = async ({ taskQueue, client, eager }: (typeof workers)[number], text: string) => {
    const request = statsRequest(text);
    const t0 = performance.now();
    const { handle } = await startRun(client, { taskQueue, request, eager });
    const envelope = await runEnvelope(handle);
    const ms = performance.now() - t0;
    if (envelope.status !== 'success') throw new Error(`run failed: ${JSON.stringify(envelope)}`);
    return { ms, executeMs: executeSpan((await handle.fetchHistory()).events ?? []) };
  };
  const s: Record<string, number[]> = {};
  const add = (k: string, v: number) => (s[k] ??= []).push(v);
  try {
    for (const w of workers) await run(w, `warm ${w.name} ${salt}`);
    for (let i = 0; i < N; i++) {
      process.stderr.write(`round ${i + 1}/${N}\r`);
      const order = i % 2 === 0 ? workers : [...workers].reverse();
      for (const w of order) {
        const text = `ab ${w.name} ${salt} ${i}`;
        const miss = await run(w, text);
        add(`${w.name} miss`, miss.ms);
        add(`${w.name} miss without Execute`, miss.ms - miss.executeMs);
        add(`${w.name} cache hit`, (await run(w, text)).ms);
      }
    }
    const paired = (k: string) => s[`B ${k}`]!.map((v, i) => v - s[`A ${k}`]![i]!);
    s['B − A miss, paired'] = paired('miss');
    s['B − A miss without Execute, paired'] = paired('miss without Execute');
    s['B − A cache hit, paired'] = paired('cache hit');
    const load = (await exec('cat', ['/proc/loadavg'])).stdout.split(' ').slice(0, 3).join(' ');
    const rows = [
      `${EAGER_ACTIVITIES ? 'A = no eager activities, B = eager activities' : EAGER ? 'A = queued start, B = eager start (working tree)' : `A = workflows at ${BASELINE}, B = working tree`}; N=${N}, Node ${process.version}, load average ${load}.`,
      '',
      '| measure | p50 | p95 |',
      '|---|---:|---:|',
      ...Object.entries(s).map(
        ([k, v]) => `| ${k} | ${percentile(v, 50).toFixed(0)} ms | ${percentile(v, 95).toFixed(0)} ms |`,
      ),
    ];
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.done));
    await connection.close();
    await queued.connection.close();
    await rm(tree, { recursive: true, force: true });
  }
}

type HistoryEvents = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>;

/** Execute's started → completed in the history (server clock), 0 when the run had no Execute (a cache hit). */
function executeSpan(events: HistoryEvents): number {
  const ms = (e: HistoryEvents[number] | undefined) =>
    e?.eventTime ? Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : NaN;
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'execute');
  if (!scheduled) return 0;
  const id = String(scheduled.eventId);
  const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === id);
  const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id);
  return ms(completed) - ms(started);
}

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

await main();
