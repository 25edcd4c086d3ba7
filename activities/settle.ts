// Settle: verify what the processor wrote, land it in the world, write outputs.json and the dual receipts,
// charge the actual cost and release the leases (DESIGN.md §2, §6). Every check runs before the first
// write, so a refused run leaves nothing half written; every write is idempotent, so a retry converges.
import {
  OutputsIndexSchema,
  ProcessorReceiptSchema,
  RECEIPT_SCHEMA,
  ReceiptSchema,
  WorldloopError,
  type OutputEntry,
  type Receipt,
  type SuccessEnvelope,
} from '../src/contracts';
import { determinismPath } from '../src/contracts/write-prefix';
import { blake3Hex, canonicalize } from '../src/hashing';
import { assertNoDuplicates, canonicalPath, joinWorldPath } from '../src/world';
import { cacheRecordKey } from './cache';
import type { ActivityDeps } from './deps';
import type { CacheRecord, SettleCachedInput, SettleInput } from './types';

/** The envelope a receipt stands for; used for idempotent retries and for `worldloop show`. */
export function envelopeFromReceipt(receipt: Receipt, writePrefix: string): SuccessEnvelope {
  return {
    status: 'success',
    execution_id: receipt.execution_id,
    outputs: receipt.outputs.map((o) => o.path),
    index_path: `${writePrefix}outputs.json`,
    meta: {
      env_fingerprint: receipt.env_fingerprint,
      image_digest: receipt.image_digest,
      adapter: receipt.adapter,
      mode: receipt.mode,
      duration_ms: receipt.duration_ms,
      cache_hit: receipt.cache.hit,
      cost_micro: receipt.cost_micro,
    },
  };
}

async function existingReceipt(deps: ActivityDeps, executionId: string): Promise<Receipt | undefined> {
  const path = determinismPath(executionId);
  if (!(await deps.world.stat(path))) return undefined;
  return ReceiptSchema.parse(JSON.parse(new TextDecoder().decode(await deps.world.readBytes(path))));
}

/** Lands outputs.json and both receipt copies; identical facts give identical bytes (JCS). */
async function land(
  deps: ActivityDeps,
  executionId: string,
  writePrefix: string,
  outputs: OutputEntry[],
  receiptWithoutIndex: Omit<Receipt, 'outputs_index' | 'outputs'>,
): Promise<Receipt> {
  const sorted = [...outputs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const o of sorted) {
    await deps.world.bind(o.path, { ...fields(o), mime: o.mime, execution_id: executionId });
  }
  const indexPath = `${writePrefix}outputs.json`;
  const indexBytes = new TextEncoder().encode(canonicalize(OutputsIndexSchema.parse({ outputs: sorted })));
  const index = await deps.world.putBlob(indexBytes);
  await deps.world.bind(indexPath, { ...index, mime: 'application/json', execution_id: executionId });
  const receipt: Receipt = ReceiptSchema.parse({
    ...receiptWithoutIndex,
    outputs_index: { path: indexPath, blake3: blake3Hex(indexBytes) },
    outputs: sorted.map((o) => ({ path: o.path, ...fields(o) })),
  });
  const receiptBytes = new TextEncoder().encode(canonicalize(receipt));
  const stored = await deps.world.putBlob(receiptBytes);
  for (const path of [`${writePrefix}receipt.json`, determinismPath(executionId)]) {
    await deps.world.bind(path, { ...stored, mime: 'application/json', execution_id: executionId });
  }
  return receipt;
}

function fields(o: { blake3: string; sha256: string; size_bytes: number }) {
  return { blake3: o.blake3, sha256: o.sha256, size_bytes: o.size_bytes };
}

function durationMs(startedAt: string, finishedAt: string): number {
  return Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt));
}

export function makeSettle(deps: ActivityDeps) {
  return async function settle({
    execution_id,
    request,
    admitted,
    executed,
    workflow,
  }: SettleInput): Promise<SuccessEnvelope> {
    const done = await existingReceipt(deps, execution_id);
    if (done) return envelopeFromReceipt(done, admitted.write_prefix);
    const prefix = admitted.write_prefix;

    // 1. Verify — all of it before anything is written.
    if (executed.violations.length > 0) {
      throw new WorldloopError('ERR_OUTPUT_INVALID', executed.violations.join('; '));
    }
    const stagedPaths = executed.staged.map((s) => joinWorldPath(prefix, s.relpath));
    assertNoDuplicates(stagedPaths);
    const index = OutputsIndexSchema.safeParse(executed.processor_index);
    if (!index.success)
      throw new WorldloopError('ERR_OUTPUT_INVALID', 'outputs.json is missing or does not match the schema');
    const procReceipt = ProcessorReceiptSchema.safeParse(executed.processor_receipt);
    if (!procReceipt.success)
      throw new WorldloopError('ERR_OUTPUT_INVALID', 'receipt.json is missing or does not match the schema');
    if (
      procReceipt.data.inputs_hash.value !== admitted.inputs_hash.value ||
      procReceipt.data.execution_id !== execution_id
    ) {
      throw new WorldloopError('ERR_DIGEST_MISMATCH', 'the processor receipt names other inputs or another execution');
    }
    assertNoDuplicates(index.data.outputs.map((o) => o.path));
    const staged = new Map(executed.staged.map((s, i) => [stagedPaths[i]!, s]));
    const outputs: OutputEntry[] = [];
    for (const entry of index.data.outputs) {
      const file = staged.get(entry.path);
      if (!file)
        throw new WorldloopError(
          'ERR_OUTPUT_INVALID',
          `outputs.json lists ${entry.path}, which is not a file the processor wrote`,
        );
      if (file.blake3 !== entry.blake3 || file.sha256 !== entry.sha256 || file.size_bytes !== entry.size_bytes) {
        throw new WorldloopError(
          'ERR_DIGEST_MISMATCH',
          `${entry.path}: the file does not match its outputs.json entry`,
        );
      }
      outputs.push({ ...entry, path: entry.path });
      staged.delete(entry.path);
    }
    if (staged.size > 0) {
      throw new WorldloopError('ERR_OUTPUT_INVALID', `not in outputs.json: ${[...staged.keys()].join(', ')}`);
    }
    const cost = procReceipt.data.cost_micro;
    if (cost > admitted.reserve_micro) {
      throw new WorldloopError(
        'ERR_BUDGET_EXCEEDED',
        `the processor reports ${cost} µ$, above its reserved bound ${admitted.reserve_micro} µ$`,
      );
    }

    // 2. Land.
    const receipt = await land(deps, execution_id, prefix, outputs, {
      receipt_schema: RECEIPT_SCHEMA,
      execution_id,
      processor_ref: request.processor_ref,
      image_digest: admitted.image_digest,
      platform: admitted.platform,
      adapter: admitted.adapter,
      mode: admitted.mode,
      env_fingerprint: admitted.env_fingerprint,
      inputs_hash: admitted.inputs_hash,
      processor_info: procReceipt.data.processor_info,
      usage: procReceipt.data.usage,
      cost_micro: cost,
      exit_code: executed.exit_code,
      started_at: executed.started_at,
      finished_at: executed.finished_at,
      duration_ms: durationMs(executed.started_at, executed.finished_at),
      workflow,
      worldloop_version: deps.version,
      cache: { key: admitted.cache_key, hit: false, source_execution_id: null },
    });

    // 3. Money and leases, then the cache record others may re-use.
    await deps.plans.charge(request.plan, execution_id, cost);
    await deps.leases.releaseLeases(execution_id);
    if (admitted.use_cache) {
      const record: CacheRecord = {
        execution_id,
        write_prefix: prefix,
        outputs,
        cost_micro: cost,
        processor_info: procReceipt.data.processor_info,
        usage: procReceipt.data.usage,
      };
      await deps.world.putJsonIfAbsent(cacheRecordKey(admitted.cache_key), record);
    }
    return envelopeFromReceipt(receipt, prefix);
  };
}

export function makeSettleCached(deps: ActivityDeps) {
  return async function settleCached(input: SettleCachedInput): Promise<SuccessEnvelope> {
    const { execution_id, admitted, record, workflow, started_at } = input;
    const done = await existingReceipt(deps, execution_id);
    if (done) return envelopeFromReceipt(done, admitted.write_prefix);
    // Re-verify at settle time too: the record was checked in Admit, but blobs are what we hand out now.
    for (const o of record.outputs) await deps.world.readBlob(o.blake3);
    const outputs = record.outputs.map((o) => ({
      ...o,
      // Both sides are canonical already, so this is a re-rooting, not a re-encoding.
      path: canonicalPath(admitted.write_prefix + o.path.slice(record.write_prefix.length), 'exact'),
    }));
    const finished_at = new Date().toISOString();
    const receipt = await land(deps, execution_id, admitted.write_prefix, outputs, {
      receipt_schema: RECEIPT_SCHEMA,
      execution_id,
      processor_ref: input.request.processor_ref,
      image_digest: admitted.image_digest,
      platform: admitted.platform,
      adapter: admitted.adapter,
      mode: admitted.mode,
      env_fingerprint: admitted.env_fingerprint,
      inputs_hash: admitted.inputs_hash,
      processor_info: record.processor_info,
      usage: record.usage,
      cost_micro: 0,
      exit_code: null,
      started_at,
      finished_at,
      duration_ms: durationMs(started_at, finished_at),
      workflow,
      worldloop_version: deps.version,
      cache: { key: admitted.cache_key, hit: true, source_execution_id: record.execution_id },
    });
    return envelopeFromReceipt(receipt, admitted.write_prefix);
  };
}
