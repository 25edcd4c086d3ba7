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
import { canonicalPath, mapLimit, type BlobDigest } from '../src/world';
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

/** Output paths bound at once while landing (each write holds a descriptor until its fsync returns). */
const LANDING_CONCURRENCY = 16;

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

/**
 * The finish time of a cache-hit receipt an earlier attempt already bound at the run's prefix, if it died before
 * the determinism copy. The retry must build the very same receipt bytes (create-only binds), and a cache hit's
 * finish time is the only field it does not read from the record.
 */
async function partlyLandedFinish(deps: ActivityDeps, executionId: string, admitted: AdmitResult) {
  const raw = await readLandedJson(
    deps,
    `${admitted.write_prefix}receipt.json`,
    maxRecordBytes(admitted.runtime.outputs),
  );
  const earlier = raw === undefined ? undefined : ReceiptSchema.safeParse(raw);
  return earlier?.success && earlier.data.execution_id === executionId ? earlier.data.finished_at : undefined;
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

/** What the first attempt knows of what it just landed, so nothing it wrote is read back. */
interface Landed {
  receipt: Receipt;
  /** The outputs index's entries (outputs.json), sorted by path. */
  outputs: OutputEntry[];
  /** The receipt's and outputs.json's digests, for the attestation. */
  receiptDigest: BlobDigest;
  indexDigest: BlobDigest;
}

/** A landed receipt found by a retry: the rest is read from what landed, exactly as the first attempt had it. */
async function readLanded(deps: ActivityDeps, admitted: AdmitResult, receipt: Receipt): Promise<Landed> {
  const index = OutputsIndexSchema.parse(
    await readLandedJson(deps, receipt.outputs_index.path, maxRecordBytes(admitted.runtime.outputs)),
  );
  return {
    receipt,
    outputs: index.outputs,
    receiptDigest: await mustStat(deps, determinismPath(receipt.execution_id)),
    indexDigest: await mustStat(deps, receipt.outputs_index.path),
  };
}

async function mustStat(deps: ActivityDeps, path: string): Promise<BlobDigest> {
  const entry = await deps.world.stat(path);
  if (!entry) throw new WorldloopError('ERR_INVARIANT', `${path} is not bound although the receipt landed`);
  return entry;
}

/**
 * Steps 2–5 of a settlement whose receipt has landed: charge, release the leases, record the cache entry,
 * attest. Everything comes from what landed (receipt and outputs.json), so a retry does exactly what the first
 * attempt would have done: the ledger's charge of the same amount is a no-op, releasing released leases,
 * writing a present cache record and an attestation already bound are no-ops. The four are independent of one
 * another (each needs only the landed receipt), so they run at once: their writes share the disk's flushes.
 */
async function completeSettlement(deps: ActivityDeps, input: SettleInput, landed: Landed): Promise<void> {
  const { admitted, execution_id } = input;
  const { receipt } = landed;
  const cacheRecord = async () => {
    if (!admitted.use_cache) return;
    const record: CacheRecord = {
      execution_id,
      write_prefix: admitted.write_prefix,
      outputs: landed.outputs,
      cost_micro: receipt.cost_micro,
      processor_info: receipt.processor_info,
      usage: receipt.usage,
    };
    await deps.world.putJsonIfAbsent(cacheRecordKey(admitted.cache_key), record);
  };
  await Promise.all([
    deps.plans.charge(input.request.plan, execution_id, receipt.cost_micro),
    deps.leases.releaseLeases(execution_id),
    cacheRecord(),
    attest(deps, input, landed),
  ]);
}

/**
 * Lands outputs.json and both receipt copies; identical facts give identical bytes (JCS). The receipt at the
 * determinism path is what tells a retry "publish is done", so it is bound last, once everything it names is
 * bound; before it, writes that do not depend on one another go at once (their fsyncs share the disk's flushes):
 * the outputs' paths and the index and receipt blobs, then outputs.json and the prefix's receipt.json.
 */
async function land(
  deps: ActivityDeps,
  executionId: string,
  writePrefix: string,
  outputs: OutputEntry[],
  receiptWithoutIndex: Omit<Receipt, 'outputs_index' | 'outputs'>,
): Promise<Landed> {
  const sorted = [...outputs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const indexPath = `${writePrefix}outputs.json`;
  const indexBytes = new TextEncoder().encode(canonicalize(OutputsIndexSchema.parse({ outputs: sorted })));
  const receipt: Receipt = ReceiptSchema.parse({
    ...receiptWithoutIndex,
    outputs_index: { path: indexPath, blake3: blake3Hex(indexBytes) },
    outputs: sorted.map((o) => ({ path: o.path, ...fields(o) })),
  });
  const receiptBytes = new TextEncoder().encode(canonicalize(receipt));
  const bound = (digest: BlobDigest, mime: string) => ({ ...fields(digest), mime, execution_id: executionId });
  const [indexDigest, receiptDigest] = await Promise.all([
    deps.world.putBlob(indexBytes),
    deps.world.putBlob(receiptBytes),
    mapLimit(sorted, LANDING_CONCURRENCY, (o) => deps.world.bind(o.path, bound(o, o.mime))),
  ]);
  await Promise.all([
    deps.world.bind(indexPath, bound(indexDigest, 'application/json')),
    deps.world.bind(`${writePrefix}receipt.json`, bound(receiptDigest, 'application/json')),
  ]);
  await deps.world.bind(determinismPath(executionId), bound(receiptDigest, 'application/json'));
  return { receipt, outputs: sorted, receiptDigest, indexDigest };
}

/** Every settled run — cache hits included — is attested once its receipt has landed. */
function attest(deps: ActivityDeps, input: SettleInput | SettleCachedInput, landed: Landed): Promise<void> {
  return attestRun(deps, {
    execution_id: input.execution_id,
    write_prefix: input.admitted.write_prefix,
    plan: input.request.plan,
    image: input.admitted.image,
    receipt: landed.receipt,
    receiptDigest: landed.receiptDigest,
    indexDigest: landed.indexDigest,
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
    const done = await existingReceipt(deps, execution_id, admitted);
    if (done) {
      await completeSettlement(deps, input, await readLanded(deps, admitted, done));
      return envelopeFromReceipt(done, prefix);
    }

    // 1. Verify — all of it before anything is written (staging decided the rest before copying).
    const { outputs, receipt: procReceipt } = await readManifest(deps, input);

    // 2. Publish.
    const landed = await land(deps, execution_id, prefix, outputs, {
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

    // 3–5. Money and leases, the cache record others may re-use, the signed attestation.
    await completeSettlement(deps, input, landed);
    return envelopeFromReceipt(landed.receipt, prefix);
  };
}

export function makeSettleCached(deps: ActivityDeps) {
  return async function settleCached(input: SettleCachedInput): Promise<SuccessEnvelope> {
    const { execution_id, admitted, record, workflow, started_at } = input;
    // A cache-hit settlement holds no reservation and no lease: publishing is all there is to complete.
    const done = await existingReceipt(deps, execution_id, admitted);
    if (done) {
      await attest(deps, input, await readLanded(deps, admitted, done));
      return envelopeFromReceipt(done, admitted.write_prefix);
    }
    const outputs = record.outputs.map((o) => ({
      ...o,
      // Both sides are canonical already, so this is a re-rooting, not a re-encoding.
      path: canonicalPath(admitted.write_prefix + o.path.slice(record.write_prefix.length), 'exact'),
    }));
    const finished_at = (await partlyLandedFinish(deps, execution_id, admitted)) ?? new Date().toISOString();
    const landed = await land(deps, execution_id, admitted.write_prefix, outputs, {
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
    await attest(deps, input, landed);
    return envelopeFromReceipt(landed.receipt, admitted.write_prefix);
  };
}
