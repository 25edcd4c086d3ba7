// Records the histories that tests/replay replays: real runs on the real loop, saved as JSON.
// Run with `npm run replay:record` after a deliberate workflow change, review the diff, commit.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { queryPhase, runEnvelope as envelopeOf } from '../../src/temporal/client';
import { activityOutcomes } from '../../src/temporal/history-events';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const out = join(REPO_ROOT, 'tests', 'replay', 'histories');
let h: LoopHarness;

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv());
  await mkdir(out, { recursive: true });
  // Each case overwrites its own file; histories recorded by older workflow code (`*.before-<patch>.json`) stay,
  // so the replay test keeps proving that runs begun before a patch still replay.
}, 900_000);

afterAll(async () => {
  await h?.close();
});

const cases = [
  {
    name: 'text-stats-success',
    request: { processor_ref: 'text/stats@1', inputs: { text: 'recorded run' } },
    status: 'success',
  },
  {
    name: 'text-stats-cache-hit',
    request: { processor_ref: 'text/stats@1', inputs: { text: 'recorded run' } },
    status: 'success',
    cacheHit: true,
  },
  {
    name: 'llm-chat-mock',
    request: {
      processor_ref: 'llm/chat@1',
      inputs: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    },
    status: 'success',
  },
  {
    name: 'fixture-crash',
    request: { processor_ref: 'test/fixture@1', inputs: { behaviour: 'crash' } },
    status: 'error',
  },
  { name: 'text-stats-bad-inputs', request: { processor_ref: 'text/stats@1', inputs: { text: 1 } }, status: 'error' },
] as const;

/** Saves a run's history as `<name>.json`. */
async function saveHistory(name: string, handle: WorkflowHandleWithFirstExecutionRunId) {
  // The Temporal CLI writes the proto3 JSON form that historyFromJSON reads (and the Web UI downloads).
  const cli = await findTemporalCli(h.cfg);
  const { stdout } = await promisify(execFile)(
    cli.path,
    [
      'workflow',
      'show',
      '--workflow-id',
      handle.workflowId,
      '--run-id',
      handle.firstExecutionRunId,
      '--address',
      h.temporal.address,
      '--namespace',
      h.temporal.namespace,
      '--output',
      'json',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  await writeFile(join(out, `${name}.json`), `${JSON.stringify(JSON.parse(stdout), null, 2)}\n`);
}

for (const c of cases) {
  it(`records ${c.name}`, async () => {
    const { handle } = await h.start({ ...c.request });
    const envelope = await envelopeOf(handle);
    expect(envelope.status).toBe(c.status);
    if ('cacheHit' in c && envelope.status === 'success') expect(envelope.meta.cache_hit).toBe(true);
    await saveHistory(c.name, handle);
  }, 300_000);
}

// An identical run started while the first executes: its local Reserve answers in_flight and the ordinary Reserve
// waits for the first's cache record (ADR 0023), so this history holds Reserve twice.
it('records text-stats-in-flight', async () => {
  const request = { processor_ref: 'text/stats@1', inputs: { text: 'recorded in-flight run' } } as const;
  const first = await h.start(request);
  const deadline = Date.now() + 60_000;
  while ((await queryPhase(first.handle))?.phase !== 'execute') {
    if (Date.now() > deadline) throw new Error('the first run never reached execute');
    await sleep(20);
  }
  const second = await h.start(request);
  const [a, b] = await Promise.all([envelopeOf(first.handle), envelopeOf(second.handle)]);
  expect([a.status, b.status]).toEqual(['success', 'success']);
  if (b.status === 'success') expect(b.meta.cache_hit).toBe(true);
  const { scheduled } = activityOutcomes((await second.handle.fetchHistory()).events ?? []);
  expect([...scheduled].sort()).toEqual(['admit', 'recheck', 'reserve', 'settleCached']);
  await saveHistory('text-stats-in-flight', second.handle);
}, 300_000);
