// Shared by the Modal integration tests: what a successful run left in the world, in a form two runs of the
// same inputs (one per adapter) can be compared by.
import { expect } from 'vitest';
import { ReceiptSchema, type Envelope, type Receipt } from '../../src/contracts';
import type { LoopHarness } from './loop-harness';

export async function bytesAt(h: LoopHarness, path: string): Promise<Buffer> {
  return Buffer.from(await h.world.world.readBytes(path));
}

/**
 * Every output of a successful run by its path under the write prefix, and the index with that prefix
 * taken out (the prefix holds the execution id, which differs between two runs by design).
 */
export async function outputsOf(h: LoopHarness, envelope: Envelope): Promise<Map<string, Buffer>> {
  expect(envelope.status, JSON.stringify(envelope)).toBe('success');
  if (envelope.status !== 'success') return new Map();
  const prefix = envelope.index_path.slice(0, -'outputs.json'.length);
  const out = new Map<string, Buffer>();
  for (const p of envelope.outputs) out.set(p.slice(prefix.length), await bytesAt(h, p));
  out.set('outputs.json', Buffer.from((await bytesAt(h, envelope.index_path)).toString().split(prefix).join('')));
  expect(out.size).toBeGreaterThan(1);
  return out;
}

/** The receipt a successful run wrote beside its outputs. */
export async function receiptOf(h: LoopHarness, envelope: Envelope): Promise<Receipt> {
  if (envelope.status !== 'success') throw new Error(`no receipt: ${JSON.stringify(envelope)}`);
  const text = (await bytesAt(h, envelope.index_path.replace(/outputs\.json$/, 'receipt.json'))).toString();
  return ReceiptSchema.parse(JSON.parse(text));
}
