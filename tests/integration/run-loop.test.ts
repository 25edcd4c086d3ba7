// The durable loop end to end: real Temporal dev server, real Docker engine, real images pulled by digest
// from the loopback registry. Each error path is checked for its code AND for "nothing half written".
import Dockerode from 'dockerode';
import { blake3 } from '@noble/hashes/blake3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { OutputsIndexSchema, ReceiptSchema, type Envelope } from '../../src/contracts';
import { determinismPath } from '../../src/contracts/write-prefix';
import { runWorkflowId } from '../../src/contracts/workflow-id';
import { integrationEnv } from './env';
import { runEnvelope } from '../../src/temporal/client';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const run = promisify(execFile);
const docker = new Dockerode();
let h: LoopHarness;

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv());
}, 900_000);

afterAll(async () => {
  await h?.close();
});

function expectError(envelope: Envelope, code: string): void {
  expect(envelope.status, JSON.stringify(envelope)).toBe('error');
  if (envelope.status === 'error') expect(envelope.error.code, envelope.error.message).toBe(code);
}

async function containersOf(executionId: string) {
  return docker.listContainers({ all: true, filters: { label: [`worldloop.execution_id=${executionId}`] } });
}

/** The finished container goes once Execute has recorded the outcome, in the background (ADR 0024). */
async function noContainerLeft(executionId: string): Promise<void> {
  await expect.poll(() => containersOf(executionId), { timeout: 15_000, interval: 50 }).toEqual([]);
}

async function nothingWritten(executionId: string, prefix: string): Promise<void> {
  expect(await h.world.world.list(prefix)).toEqual([]);
  expect(await h.world.world.stat(determinismPath(executionId))).toBeUndefined();
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('success path', () => {
  it('text/stats@1 in mock mode: envelope, outputs.json, byte-identical dual receipts, independent inputs_hash', async () => {
    const inputs = { text: `hello world ${Date.now()}` };
    const { execution_id, envelope } = await h.run({ processor_ref: 'text/stats@1', inputs, cache: false });
    expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    if (envelope.status !== 'success') return;
    const prefix = `world://artifacts/outputs/text/stats/${execution_id}/`;
    expect(envelope.outputs).toEqual([`${prefix}outputs/stats.json`]);
    expect(envelope.index_path).toBe(`${prefix}outputs.json`);
    expect(envelope.meta).toMatchObject({ adapter: 'local', mode: 'mock', cache_hit: false, cost_micro: 0 });
    expect(envelope.meta.image_digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const index = OutputsIndexSchema.parse(JSON.parse(text(await h.world.world.readBytes(envelope.index_path))));
    expect(index.outputs.map((o) => o.path)).toEqual(envelope.outputs);
    const stats = JSON.parse(text(await h.world.world.readBytes(envelope.outputs[0]!)));
    expect(stats).toMatchObject({ words: 3, lines: 1, bytes: Buffer.byteLength(inputs.text) });

    const receiptA = await h.world.world.readBytes(`${prefix}receipt.json`);
    const receiptB = await h.world.world.readBytes(determinismPath(execution_id));
    expect(Buffer.from(receiptA).equals(Buffer.from(receiptB))).toBe(true);
    const receipt = ReceiptSchema.parse(JSON.parse(text(receiptA)));
    // Independent computation: JCS of a one-key object is the compact JSON; BLAKE3 from @noble (not the native backend).
    const independent = bytesToHex(blake3(new TextEncoder().encode(JSON.stringify({ text: inputs.text }))));
    expect(receipt.inputs_hash).toEqual({ hash_schema: 'jcs-blake3-v1', value: independent });
    expect(receipt.workflow.id).toBe(runWorkflowId(execution_id));
    expect(receipt.outputs[0]!.blake3).toBe(index.outputs[0]!.blake3);
    expect(receipt.exit_code).toBe(0);
    await noContainerLeft(execution_id);
  });

  it('llm/chat@1 in mock mode: a canned completion derived from the inputs_hash, cost in the receipt', async () => {
    const inputs = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] };
    const first = await h.run({ processor_ref: 'llm/chat@1', inputs });
    const second = await h.run({ processor_ref: 'llm/chat@1', inputs });
    for (const { envelope } of [first, second]) expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    if (first.envelope.status !== 'success' || second.envelope.status !== 'success') return;
    expect(first.envelope.meta.cache_hit).toBe(false);
    expect(second.envelope.meta.cache_hit).toBe(false); // not deterministic: never cached
    const completion = (e: typeof first.envelope) => e.outputs.find((o) => o.endsWith('completion.json'))!;
    const a = await h.world.world.readBytes(completion(first.envelope));
    const b = await h.world.world.readBytes(completion(second.envelope));
    expect(text(a)).toBe(text(b));
    const receipt = ReceiptSchema.parse(
      JSON.parse(text(await h.world.world.readBytes(determinismPath(first.execution_id)))),
    );
    expect(receipt.cost_micro).toBe(first.envelope.meta.cost_micro);
    expect(Object.keys(receipt.usage).length).toBeGreaterThan(0);
  });
});

describe('error paths', () => {
  it('unknown processor → ERR_UNKNOWN_PROCESSOR, nothing written', async () => {
    const { execution_id, envelope } = await h.run({ processor_ref: 'nope/missing@1', inputs: {} });
    expectError(envelope, 'ERR_UNKNOWN_PROCESSOR');
    await nothingWritten(execution_id, `world://artifacts/outputs/nope/missing/${execution_id}/`);
  });

  it('inputs failing the schema → ERR_INPUTS, no container', async () => {
    const { execution_id, envelope } = await h.run({ processor_ref: 'text/stats@1', inputs: { text: 42 } });
    expectError(envelope, 'ERR_INPUTS');
    await noContainerLeft(execution_id);
    await nothingWritten(execution_id, `world://artifacts/outputs/text/stats/${execution_id}/`);
  });

  it('CI=true with real mode → ERR_CI_SAFETY from the CLI before anything starts, and again in Admit', async () => {
    // Any real-mode container created while this test runs would show up here (other suites only run mock).
    const since = Math.floor(Date.now() / 1000) - 1;
    const cli = await run(
      'node',
      ['bin/worldloop.js', 'run', 'text/stats@1', '--inputs', '{"text":"x"}', '--mode', 'real'],
      {
        cwd: REPO_ROOT,
        env: { ...h.env, CI: 'true' },
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(cli.code).not.toBe(0);
    expect(cli.stderr.split('\n')[0]).toMatch(/^ERR_CI_SAFETY: /);

    // The worker-side guard: a CI worker refuses a real run that some client started anyway.
    const ciHarness = await startLoopHarness(integrationEnv(), { overrides: { CI: 'true' } });
    try {
      const { execution_id, envelope } = await ciHarness.run({
        processor_ref: 'text/stats@1',
        inputs: { text: 'x' },
        mode: 'real',
      });
      expectError(envelope, 'ERR_CI_SAFETY');
      await noContainerLeft(execution_id);
    } finally {
      await ciHarness.close();
    }
    const until = Math.floor(Date.now() / 1000) + 1;
    const events = await docker.getEvents({
      since,
      until,
      filters: { type: ['container'], event: ['create'], label: ['worldloop.mode=real'] },
    });
    const chunks: Buffer[] = [];
    for await (const chunk of events as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString().trim()).toBe('');
  });

  it('the CLI end to end: run --json, show --json and ls --json agree through the client module', async () => {
    const cli = (...args: string[]) =>
      run('node', ['bin/worldloop.js', ...args], { cwd: REPO_ROOT, env: h.env }).then((r) => r.stdout);
    const text = `cli ${Date.now()}`;
    const envelope = JSON.parse(
      await cli('run', 'text/stats@1', '--inputs', JSON.stringify({ text }), '--json'),
    ) as Envelope;
    expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    const shown = JSON.parse(await cli('show', envelope.execution_id, '--json')) as {
      status: string;
      envelope: Envelope;
      receipt: { workflow: { id: string } };
    };
    expect(shown.status).toBe('COMPLETED');
    expect(shown.envelope).toEqual(envelope);
    expect(shown.receipt.workflow.id).toBe(runWorkflowId(envelope.execution_id));
    // Visibility is eventually consistent: give the listing a few seconds to show the run.
    let row: unknown;
    for (let i = 0; i < 20 && row === undefined; i++) {
      const listed = JSON.parse(await cli('ls', '--limit', '50', '--json')) as { execution_id: string }[];
      row = listed.find((r) => r.execution_id === envelope.execution_id);
      if (row === undefined) await new Promise((r) => setTimeout(r, 500));
    }
    expect(row).toMatchObject({ processor_ref: 'text/stats@1', mode: 'mock', status: 'COMPLETED' });
  });

  it('timeout → ERR_TIMEOUT, the container is gone and the budget released', async () => {
    const started = Date.now();
    const { execution_id, envelope } = await h.run({
      processor_ref: 'test/fixture@1',
      inputs: { behaviour: 'sleep', sleep_s: 120 },
    });
    expectError(envelope, 'ERR_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(60_000);
    await noContainerLeft(execution_id);
    const plan = await h.world.ledger.getPlan('default');
    expect(plan.reservations.find((r) => r.execution_id === execution_id)?.status).toBe('released');
  });

  it('cancelling a run kills its container and releases its reservation', async () => {
    const { execution_id, handle } = await h.start({
      processor_ref: 'test/fixture@1',
      inputs: { behaviour: 'sleep', sleep_s: 60 },
    });
    for (let i = 0; i < 300 && (await containersOf(execution_id)).every((c) => c.State !== 'running'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await containersOf(execution_id)).map((c) => c.State)).toEqual(['running']);
    await handle.cancel();
    const envelope = await runEnvelope(handle);
    expectError(envelope, 'ERR_CANCELLED');
    await noContainerLeft(execution_id);
    const plan = await h.world.ledger.getPlan('default');
    expect(plan.reservations.find((r) => r.execution_id === execution_id)?.status).toBe('released');
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });

  it('processor crash → ERR_PROCESSOR_FAILED with a redacted stderr tail', async () => {
    const { execution_id, envelope } = await h.run({ processor_ref: 'test/fixture@1', inputs: { behaviour: 'crash' } });
    expectError(envelope, 'ERR_PROCESSOR_FAILED');
    if (envelope.status === 'error') {
      expect(envelope.error.message).toContain('crashing on purpose');
      expect(envelope.error.message).not.toContain('fixture-token-abcdef123456');
    }
    await nothingWritten(execution_id, `world://artifacts/outputs/test/fixture/${execution_id}/`);
  });

  for (const [behaviour, code] of [
    ['symlink', 'ERR_OUTPUT_INVALID'],
    ['escape', 'ERR_OUTPUT_INVALID'],
    ['unindexed', 'ERR_OUTPUT_INVALID'],
    ['duplicate', 'ERR_OUTPUT_DUPLICATE'],
  ] as const) {
    it(`a processor that writes ${behaviour} output → ${code}, nothing landed, budget released`, async () => {
      const { execution_id, envelope } = await h.run({ processor_ref: 'test/fixture@1', inputs: { behaviour } });
      expectError(envelope, code);
      await nothingWritten(execution_id, `world://artifacts/outputs/test/fixture/${execution_id}/`);
      const plan = await h.world.ledger.getPlan('default');
      expect(plan.reservations.find((r) => r.execution_id === execution_id)?.status).toBe('released');
    });
  }

  it('budget exceeded → ERR_BUDGET_EXCEEDED before any container starts', async () => {
    await h.world.ledger.createPlan('tiny', 50_000);
    const { execution_id, envelope } = await h.run({
      processor_ref: 'test/fixture@1',
      inputs: { behaviour: 'ok' },
      plan: 'tiny',
    });
    expectError(envelope, 'ERR_BUDGET_EXCEEDED');
    await noContainerLeft(execution_id);
    const plan = await h.world.ledger.getPlan('tiny');
    expect(plan).toMatchObject({ reserved_micro: 0, spent_micro: 0, available_micro: 50_000 });
  });

  it('lease conflict → ERR_LEASE_CONFLICT for a run writing under a prefix another run holds', async () => {
    const shared = `world://artifacts/shared/${Date.now()}/`;
    const holder = await h.start({
      processor_ref: 'test/fixture@1',
      inputs: { behaviour: 'sleep', sleep_s: 6 },
      write_prefix: shared,
    });
    // Wait until the holder has its lease (it is executing).
    for (
      let i = 0;
      i < 100 && (await h.world.leases.activeLeases()).every((l) => l.execution_id !== holder.execution_id);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const { execution_id, envelope } = await h.run({
      processor_ref: 'test/fixture@1',
      inputs: { behaviour: 'ok' },
      write_prefix: `${shared}nested/`,
    });
    expectError(envelope, 'ERR_LEASE_CONFLICT');
    await noContainerLeft(execution_id);
    const plan = await h.world.ledger.getPlan('default');
    expect(plan.reservations.find((r) => r.execution_id === execution_id)?.status).toBe('released');
    await holder.handle.result();
  });

  it('a failing success predicate → ERR_PREDICATE_FAILED and the outputs are quarantined, not deleted', async () => {
    const { execution_id, envelope } = await h.run({
      processor_ref: 'text/stats@1',
      inputs: { text: `two words ${Date.now()}` },
      cache: false,
      predicates: {
        admission: [],
        success: [{ kind: 'json.path_equals', path: 'outputs/stats.json', pointer: '/words', value: 99 }],
      },
    });
    expectError(envelope, 'ERR_PREDICATE_FAILED');
    if (envelope.status === 'error') expect(envelope.error.message).toContain('/words is 3, expected 99');
    const prefix = `world://artifacts/outputs/text/stats/${execution_id}/`;
    const stats = `${prefix}outputs/stats.json`;
    expect(await h.world.world.stat(stats)).toBeDefined();
    expect(await h.world.world.isQuarantined(stats)).toBe(true);
  });
});

describe('budgets under concurrency', () => {
  it('20 concurrent runs against a budget that covers 10: exactly 10 succeed and the ledger balances', async () => {
    const key = `c20-${Date.now()}`;
    await h.world.ledger.createPlan(key, 10 * 100_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.run({
          processor_ref: 'test/fixture@1',
          inputs: { behaviour: 'ok', text: `run ${i}`, cost_micro: 100_000 },
          plan: key,
        }),
      ),
    );
    const ok = results.filter((r) => r.envelope.status === 'success');
    const refused = results.filter((r) => r.envelope.status === 'error');
    expect(ok.length).toBe(10);
    for (const r of refused) expectError(r.envelope, 'ERR_BUDGET_EXCEEDED');
    const plan = await h.world.ledger.getPlan(key);
    expect(plan).toMatchObject({
      budget_micro: 1_000_000,
      spent_micro: 1_000_000,
      reserved_micro: 0,
      available_micro: 0,
    });
    const verified = await h.world.ledger.verifyPlan(key);
    expect(verified.ok, verified.problems.join('; ')).toBe(true);
  });
});

describe('result cache', () => {
  it('a hit re-uses verified outputs at zero cost without a container and names the original execution', async () => {
    const inputs = { text: `cache me ${Date.now()}` };
    const first = await h.run({ processor_ref: 'text/stats@1', inputs });
    const second = await h.run({ processor_ref: 'text/stats@1', inputs });
    expect(first.envelope.status).toBe('success');
    expect(second.envelope.status).toBe('success');
    if (first.envelope.status !== 'success' || second.envelope.status !== 'success') return;
    expect(second.envelope.meta).toMatchObject({ cache_hit: true, cost_micro: 0 });
    expect(await containersOf(second.execution_id)).toEqual([]);
    const receipt = ReceiptSchema.parse(
      JSON.parse(text(await h.world.world.readBytes(determinismPath(second.execution_id)))),
    );
    expect(receipt.cache).toMatchObject({ hit: true, source_execution_id: first.execution_id });
    const a = await h.world.world.readBytes(first.envelope.outputs[0]!);
    const b = await h.world.world.readBytes(second.envelope.outputs[0]!);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);

    const forced = await h.run({ processor_ref: 'text/stats@1', inputs, cache: false });
    expect(forced.envelope.status).toBe('success');
    if (forced.envelope.status === 'success') expect(forced.envelope.meta.cache_hit).toBe(false);
  });

  it('identical concurrent runs share one execution (single-flight on the cache key)', async () => {
    const inputs = { text: `single flight ${Date.now()}` };
    const results = await Promise.all(
      Array.from({ length: 4 }, () => h.run({ processor_ref: 'text/stats@1', inputs })),
    );
    for (const r of results) expect(r.envelope.status, JSON.stringify(r.envelope)).toBe('success');
    const misses = results.filter((r) => r.envelope.status === 'success' && !r.envelope.meta.cache_hit);
    expect(misses.length).toBe(1);
    for (const r of results) {
      if (r === misses[0]) continue;
      const receipt = ReceiptSchema.parse(
        JSON.parse(text(await h.world.world.readBytes(determinismPath(r.execution_id)))),
      );
      expect(receipt.cache.source_execution_id).toBe(misses[0]!.execution_id);
    }
  });
});
