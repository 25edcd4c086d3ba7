// Settle: verify what the processor wrote, land it in the world, write outputs.json and the dual receipts,
// charge the actual cost and release the leases (docs/architecture.md §2, §6). Every check runs before the first
// write, so a refused run leaves nothing half written. After that, four steps — publish (outputs, index,
// receipts), charge, release the leases, record the cache entry, attest (settle-attestation.ts) — each idempotent
// and each re-done by every attempt: a receipt already landed means "publish is done", not "Settle is done"
// (issue 14 item 3).
import {
  OutputsIndexSchema,
  RECEIPT_SCHEMA,
  ReceiptSchema,
  WorldloopError,
  type OutputEntry,
  type Receipt,
  type Runtime,
  type SuccessEnvelope,
} from '../src/contracts';
import { determinismPath } from '../src/contracts/write-prefix';
import { blake3Hex, canonicalize, parseJsonBytes } from '../src/hashing';
import { canonicalPath } from '../src/world';
import { cacheRecordKey } from './cache';
import type { ActivityDeps } from './deps';
import { MAX_PROCESSOR_RECEIPT_BYTES, maxIndexBytes, verifyManifest, type StagingManifest } from './output-check';
import { attestRun } from './settle-attestation';
import type { AdmitResult, CacheRecord, SettleCachedInput, SettleInput } from './types';

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
      ...(receipt.modal_app !== undefined ? { modal_app: receipt.modal_app } : {}),
      mode: receipt.mode,
      duration_ms: receipt.duration_ms,
      cache_hit: receipt.cache.hit,
      cost_micro: receipt.cost_micro,
    },
  };
}

/** The Modal app the adapter reported in its envelope (meta.modal_app), for the receipt. */
function modalAppOf(meta: Record<string, unknown>): { modal_app?: string } {
  return typeof meta.modal_app === 'string' ? { modal_app: meta.modal_app } : {};
}

/** Our own receipts and indexes list at most max_files outputs; anything bigger is not ours to read. */
function maxRecordBytes(limits: Runtime['outputs']): number {
  return maxIndexBytes(limits) + MAX_PROCESSOR_RECEIPT_BYTES;
}

/** The JSON bound at `path`, read only when its recorded size is within `max` (no unbounded read). */
async function readLandedJson(deps: ActivityDeps, path: string, max: number): Promise<unknown> {
  const entry = await deps.world.stat(path);
  if (!entry) return undefined;
  if (entry.size_bytes > max) {
    throw new WorldloopError('ERR_OUTPUT_TOO_LARGE', `${path} is ${entry.size_bytes} bytes, above the ${max} read`);
  }
  return parseJsonBytes(await deps.world.readBytes(path));
}

async function existingReceipt(deps: ActivityDeps, executionId: string, admitted: AdmitResult) {
  const raw = await readLandedJson(deps, determinismPath(executionId), maxRecordBytes(admitted.runtime.outputs));
  return raw === undefined ? undefined : ReceiptSchema.parse(raw);
}

/** The staging manifest Execute recorded, re-verified against this run's facts. */
async function readManifest(deps: ActivityDeps, input: SettleInput): Promise<StagingManifest> {
  const { staging } = input.executed;
  if (staging.status === 'refused') throw new WorldloopError(staging.code, staging.message);
  const max = maxRecordBytes(input.admitted.runtime.outputs);
  if (staging.manifest.size_bytes > max) {
    throw new WorldloopError('ERR_OUTPUT_TOO_LARGE', `the staging manifest is ${staging.manifest.size_bytes} bytes`);
  }
  const bytes = await deps.world.readBlob(staging.manifest.blake3);
  if (bytes.byteLength !== staging.manifest.size_bytes) {
    throw new WorldloopError('ERR_DIGEST_MISMATCH', `the staging manifest is not ${staging.manifest.size_bytes} bytes`);
  }
  const raw = parseJsonBytes(bytes);
  return verifyManifest(raw, {
    execution_id: input.execution_id,
    write_prefix: input.admitted.write_prefix,
    inputs_hash: input.admitted.inputs_hash.value,
    reserve_micro: input.admitted.reserve_micro,
  });
}

/**
 * Steps 2–4 of a settlement whose receipt has landed: charge, release the leases, record the cache entry.
 * Everything comes from what landed (receipt and outputs.json), so a retry does exactly what the first
 * attempt would have done: the ledger's charge of the same amount is a no-op, releasing released leases
 * and writing a present cache record are no-ops.
 */
async function completeSettlement(deps: ActivityDeps, input: SettleInput, receipt: Receipt): Promise<void> {
  const { admitted, execution_id } = input;
  await deps.plans.charge(input.request.plan, execution_id, receipt.cost_micro);
  await deps.leases.releaseLeases(execution_id);
  if (!admitted.use_cache) return;
  const index = OutputsIndexSchema.parse(
    await readLandedJson(deps, receipt.outputs_index.path, maxRecordBytes(admitted.runtime.outputs)),
  );
  const record: CacheRecord = {
    execution_id,
    write_prefix: admitted.write_prefix,
    outputs: index.outputs,
    cost_micro: receipt.cost_micro,
    processor_info: receipt.processor_info,
    usage: receipt.usage,
  };
  await deps.world.putJsonIfAbsent(cacheRecordKey(admitted.cache_key), record);
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

/** Every settled run — cache hits included — is attested once its receipt has landed. */
function attest(deps: ActivityDeps, input: SettleInput | SettleCachedInput, receipt: Receipt): Promise<void> {
  return attestRun(deps, {
    execution_id: input.execution_id,
    write_prefix: input.admitted.write_prefix,
    plan: input.request.plan,
    image: input.admitted.image,
    receipt,
  });
}

function fields(o: { blake3: string; sha256: string; size_bytes: number }) {
  return { blake3: o.blake3, sha256: o.sha256, size_bytes: o.size_bytes };
}

function durationMs(startedAt: string, finishedAt: string): number {
  return Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt));
}

export function makeSettle(deps: ActivityDeps) {
  return async function settle(input: SettleInput): Promise<SuccessEnvelope> {
    const { execution_id, request, admitted, executed, workflow } = input;
    const prefix = admitted.write_prefix;
    const landed = await existingReceipt(deps, execution_id, admitted);
    if (landed) {
      await completeSettlement(deps, input, landed);
      await attest(deps, input, landed);
      return envelopeFromReceipt(landed, prefix);
    }

    // 1. Verify — all of it before anything is written (staging decided the rest before copying).
    const { outputs, receipt: procReceipt } = await readManifest(deps, input);

    // 2. Publish.
    const receipt = await land(deps, execution_id, prefix, outputs, {
      receipt_schema: RECEIPT_SCHEMA,
      execution_id,
      processor_ref: request.processor_ref,
      image_digest: admitted.image_digest,
      platform: admitted.platform,
      adapter: admitted.adapter,
      ...modalAppOf(executed.envelope.meta),
      mode: admitted.mode,
      env_fingerprint: admitted.env_fingerprint,
      inputs_hash: admitted.inputs_hash,
      // lineage: the world artifacts the inputs named, by digest (absent when none, so old receipts keep their bytes).
      ...(admitted.input_artifacts ? { input_artifacts: admitted.input_artifacts } : {}),
      processor_info: procReceipt.processor_info,
      usage: procReceipt.usage,
      cost_micro: procReceipt.cost_micro,
      exit_code: executed.exit_code,
      started_at: executed.started_at,
      finished_at: executed.finished_at,
      duration_ms: durationMs(executed.started_at, executed.finished_at),
      workflow,
      worldloop_version: deps.version,
      cache: { key: admitted.cache_key, hit: false, source_execution_id: null },
    });

    // 3–4. Money and leases, then the cache record others may re-use; 5. the signed attestation.
    await completeSettlement(deps, input, receipt);
    await attest(deps, input, receipt);
    return envelopeFromReceipt(receipt, prefix);
  };
}

export function makeSettleCached(deps: ActivityDeps) {
  return async function settleCached(input: SettleCachedInput): Promise<SuccessEnvelope> {
    const { execution_id, admitted, record, workflow, started_at } = input;
    // A cache-hit settlement holds no reservation and no lease: publishing is all there is to complete.
    const done = await existingReceipt(deps, execution_id, admitted);
    if (done) {
      await attest(deps, input, done);
      return envelopeFromReceipt(done, admitted.write_prefix);
    }
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
      // lineage: the world artifacts the inputs named, by digest (absent when none, so old receipts keep their bytes).
      ...(admitted.input_artifacts ? { input_artifacts: admitted.input_artifacts } : {}),
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
    await attest(deps, input, receipt);
    return envelopeFromReceipt(receipt, admitted.write_prefix);
  };
}
