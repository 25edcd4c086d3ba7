// A two-step chain on the real loop (dev server, Docker, images from the loopback registry): the second
// text/stats@1 run reads the first run's output by world path. The artifact's digest enters the inputs
// hash, the container reads the verified bytes read-only, the receipt lists the input, a second identical
// chain step is a cache hit, and `worldloop lineage` on the second output shows both runs.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LineageNode } from '../../src/cli/commands/lineage';
import { REPO_ROOT } from '../../src/config';
import { ReceiptSchema } from '../../src/contracts';
import { determinismPath } from '../../src/contracts/write-prefix';
import { parseJsonBytes } from '../../src/hashing';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const exec = promisify(execFile);
let h: LoopHarness;

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv());
}, 900_000);

afterAll(async () => {
  await h?.close();
});

const receiptOf = async (id: string) =>
  ReceiptSchema.parse(parseJsonBytes(await h.world.world.readBytes(determinismPath(id))));

describe('a two-step chain: text/stats@1 counts another run’s output', () => {
  let first: { id: string; output: string };
  let second: { id: string; output: string };

  beforeAll(async () => {
    const a = await h.run({ processor_ref: 'text/stats@1', inputs: { text: `chain ${Date.now()}` } });
    expect(a.envelope.status, JSON.stringify(a.envelope)).toBe('success');
    if (a.envelope.status !== 'success') return;
    first = { id: a.execution_id, output: a.envelope.outputs[0]! };
    const b = await h.run({ processor_ref: 'text/stats@1', inputs: { file: { $world: first.output } } });
    expect(b.envelope.status, JSON.stringify(b.envelope)).toBe('success');
    if (b.envelope.status !== 'success') return;
    second = { id: b.execution_id, output: b.envelope.outputs[0]! };
  }, 600_000);

  it('the second run counted exactly the first run’s bytes, and its receipt lists them by digest', async () => {
    const upstream = await h.world.world.readBytes(first.output);
    const stats = JSON.parse(new TextDecoder().decode(await h.world.world.readBytes(second.output))) as {
      bytes: number;
    };
    expect(stats.bytes).toBe(upstream.byteLength);
    const entry = await h.world.world.stat(first.output);
    const receipt = await receiptOf(second.id);
    expect(receipt.input_artifacts).toEqual([
      {
        pointer: '/file',
        path: first.output,
        blake3: entry!.blake3,
        sha256: entry!.sha256,
        size_bytes: upstream.byteLength,
      },
    ]);
  });

  it('the same chain step again is a cache hit of the second run', async () => {
    const again = await h.run({ processor_ref: 'text/stats@1', inputs: { file: { $world: first.output } } });
    expect(again.envelope.status).toBe('success');
    expect((await receiptOf(again.execution_id)).cache).toMatchObject({ hit: true, source_execution_id: second.id });
  });

  it('a missing artifact is refused at Admit with ERR_INPUT_ARTIFACT_MISSING', async () => {
    const r = await h.run({ processor_ref: 'text/stats@1', inputs: { file: { $world: `${first.output}.absent` } } });
    expect(r.envelope.status).toBe('error');
    if (r.envelope.status === 'error') expect(r.envelope.error.code).toBe('ERR_INPUT_ARTIFACT_MISSING');
  });

  it('worldloop lineage on the second output shows both runs, with image and inputs', async () => {
    const cli = (...args: string[]) =>
      exec('node', [join(REPO_ROOT, 'bin/worldloop.js'), 'lineage', ...args], { env: h.env, timeout: 120_000 });
    const tree = JSON.parse((await cli(second.output, '--json')).stdout) as LineageNode;
    expect(tree.produced_by).toMatchObject({ execution_id: second.id, processor_ref: 'text/stats@1' });
    expect(tree.produced_by?.image_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(tree.produced_by?.inputs).toEqual({ file: { $world: first.output } });
    expect(tree.inputs).toHaveLength(1);
    expect(tree.inputs[0]).toMatchObject({
      pointer: '/file',
      path: first.output,
      produced_by: { execution_id: first.id },
    });
    expect(tree.inputs[0]?.produced_by?.inputs).toMatchObject({ text: expect.stringMatching(/^chain /) });
    const text = (await cli(second.output)).stdout;
    expect(text).toContain(second.id);
    expect(text).toContain(`/file ← ${first.output}`);
    expect(text).toContain(first.id);
  });
});
