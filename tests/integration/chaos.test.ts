// Chaos: kill -9 the worker while its container runs. A new worker must finish the run exactly once —
// one container (adopted by name, not started again), one receipt, the budget reserved and charged once.
import Dockerode from 'dockerode';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { ReceiptSchema } from '../../src/contracts';
import { determinismPath } from '../../src/contracts/write-prefix';
import { runEnvelope as envelopeOf } from '../../src/temporal/client';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const docker = new Dockerode();
let h: LoopHarness;
const children: ChildProcess[] = [];

function startWorkerProcess(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn('node', ['bin/worldloop.js', 'worker'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv(), { embeddedWorker: false });
}, 900_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await h?.close();
});

it('kill -9 of the worker mid-execute: a new worker adopts the container and settles exactly once', async () => {
  const events: string[] = [];
  const first = startWorkerProcess(h.env);
  const { execution_id, handle } = await h.start({
    processor_ref: 'test/fixture@1',
    inputs: { behaviour: 'sleep', sleep_s: 15, text: 'survivor' },
  });
  const name = `wl-${execution_id}`;
  const stream = await docker.getEvents({ filters: { container: [name], event: ['create', 'start'] } });
  stream.on('data', (chunk: Buffer) => events.push(...chunk.toString().trim().split('\n')));

  await waitFor('the container to run', async () => {
    const [c] = await docker.listContainers({ filters: { name: [name] } });
    return c?.State === 'running' ? c : undefined;
  });
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  startWorkerProcess(h.env);

  const envelope = await envelopeOf(handle);
  (stream as unknown as { destroy(): void }).destroy();
  expect(envelope.status, JSON.stringify(envelope)).toBe('success');

  const creates = events.map((e) => JSON.parse(e) as { Action: string }).filter((e) => e.Action === 'create');
  expect(creates.length).toBe(1);
  const receipt = ReceiptSchema.parse(
    JSON.parse(new TextDecoder().decode(await h.world.world.readBytes(determinismPath(execution_id)))),
  );
  expect(receipt.execution_id).toBe(execution_id);
  const plan = await h.world.ledger.getPlan('default');
  const mine = plan.reservations.filter((r) => r.execution_id === execution_id);
  expect(mine.length).toBe(1);
  expect(mine[0]!.status).toBe('charged');
  const verified = await h.world.ledger.verifyPlan('default');
  expect(verified.ok).toBe(true);
  // The history shows the retry: Execute ran more than once, the container only once.
  const history = await handle.fetchHistory();
  const executeStarts = (history.events ?? []).filter(
    (e) =>
      e.activityTaskStartedEventAttributes &&
      e.activityTaskStartedEventAttributes.attempt &&
      e.activityTaskStartedEventAttributes.attempt > 1,
  );
  expect(executeStarts.length).toBeGreaterThanOrEqual(1);
}, 240_000);
