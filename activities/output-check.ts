// The pure heart of staging and Settle: given what the processor left (the file tree, sizes only), its
// outputs.json and its receipt.json, decide every refusal that does not need the bytes — before a single
// byte is copied into the append-only store (issue 14 item 1). The digest check, which does need the
// bytes, is `matchDigests` below; Settle re-runs `verifyManifest` on what staging recorded.
import {
  OutputsIndexSchema,
  ProcessorReceiptSchema,
  WorldloopError,
  type OutputEntry,
  type ProcessorReceipt,
  type Runtime,
} from '../src/contracts';
import { assertNoDuplicates, joinWorldPath } from '../src/world';

/** One regular file under outputs/, as lstat saw it (apparent size: a sparse file counts in full). */
export interface TreeFile {
  /** Relative to the processor's out folder, e.g. `outputs/stats.json`. */
  relpath: string;
  size_bytes: number;
}

export interface OutputTree {
  files: TreeFile[];
  /** Everything that may not be there: symlinks, special files, hard links, files outside outputs/. */
  violations: string[];
}

export interface CheckContext {
  execution_id: string;
  /** Canonical write prefix of the run. */
  write_prefix: string;
  inputs_hash: string;
  reserve_micro: number;
  limits: Runtime['outputs'];
}

/** A file that passed every check but its digest: where it lands and what the index promises. */
export interface PlannedOutput {
  relpath: string;
  entry: OutputEntry;
}

export interface StagingPlan {
  outputs: PlannedOutput[];
  receipt: ProcessorReceipt;
}

/** What staging records in the world for Settle (by digest, so no big list crosses Temporal). */
export interface StagingManifest {
  outputs: OutputEntry[];
  receipt: ProcessorReceipt;
}

const MiB = 2 ** 20;
/** An index entry is at most ~1.2 KiB (a 1024-byte path, two digests, a size, a mime type). */
const INDEX_BYTES_PER_FILE = 2048;
/** The processor kit writes small receipts; the adapter applies the same bound. */
export const MAX_PROCESSOR_RECEIPT_BYTES = 1 * MiB;

/** The largest outputs.json worth reading for these limits: never more than 64 MiB. */
export function maxIndexBytes(limits: Runtime['outputs']): number {
  return Math.min(64 * MiB, limits.max_files * INDEX_BYTES_PER_FILE + 64 * 1024);
}

/** Refuses a tree over runtime.outputs (count, largest file, total) with ERR_OUTPUT_TOO_LARGE. */
export function checkLimits(files: readonly TreeFile[], limits: Runtime['outputs']): void {
  if (files.length > limits.max_files) {
    throw new WorldloopError(
      'ERR_OUTPUT_TOO_LARGE',
      `${files.length} files under outputs/, limit ${limits.max_files} (runtime.outputs.max_files)`,
    );
  }
  let total = 0;
  for (const f of files) {
    if (f.size_bytes > limits.max_file_bytes) {
      throw new WorldloopError(
        'ERR_OUTPUT_TOO_LARGE',
        `${f.relpath} is ${f.size_bytes} bytes, limit ${limits.max_file_bytes} (runtime.outputs.max_file_bytes)`,
      );
    }
    total += f.size_bytes;
  }
  if (total > limits.max_total_bytes) {
    throw new WorldloopError(
      'ERR_OUTPUT_TOO_LARGE',
      `outputs/ holds ${total} bytes, limit ${limits.max_total_bytes} (runtime.outputs.max_total_bytes)`,
    );
  }
}

function parseReceipt(raw: unknown, ctx: Omit<CheckContext, 'limits'>): ProcessorReceipt {
  const parsed = ProcessorReceiptSchema.safeParse(raw);
  if (!parsed.success)
    throw new WorldloopError('ERR_OUTPUT_INVALID', 'receipt.json is missing or does not match the schema');
  const receipt = parsed.data;
  if (receipt.inputs_hash.value !== ctx.inputs_hash || receipt.execution_id !== ctx.execution_id) {
    throw new WorldloopError('ERR_DIGEST_MISMATCH', 'the processor receipt names other inputs or another execution');
  }
  if (receipt.cost_micro > ctx.reserve_micro) {
    throw new WorldloopError(
      'ERR_BUDGET_EXCEEDED',
      `the processor reports ${receipt.cost_micro} µ$, above its reserved bound ${ctx.reserve_micro} µ$`,
    );
  }
  return receipt;
}

/**
 * Every refusal decidable from the tree, the index and the receipt, in Settle's historical order.
 * `rawIndex`/`rawReceipt` are the parsed JSON files (undefined when missing or not JSON).
 */
export function planStaging(tree: OutputTree, rawIndex: unknown, rawReceipt: unknown, ctx: CheckContext): StagingPlan {
  if (tree.violations.length > 0) throw new WorldloopError('ERR_OUTPUT_INVALID', tree.violations.join('; '));
  checkLimits(tree.files, ctx.limits);
  const paths = tree.files.map((f) => joinWorldPath(ctx.write_prefix, f.relpath));
  assertNoDuplicates(paths);
  const index = OutputsIndexSchema.safeParse(rawIndex);
  if (!index.success)
    throw new WorldloopError('ERR_OUTPUT_INVALID', 'outputs.json is missing or does not match the schema');
  if (index.data.outputs.length > ctx.limits.max_files) {
    throw new WorldloopError(
      'ERR_OUTPUT_TOO_LARGE',
      `outputs.json lists ${index.data.outputs.length} entries, limit ${ctx.limits.max_files} (runtime.outputs.max_files)`,
    );
  }
  const receipt = parseReceipt(rawReceipt, ctx);
  assertNoDuplicates(index.data.outputs.map((o) => o.path));
  const byPath = new Map(tree.files.map((f, i) => [paths[i]!, f]));
  const outputs: PlannedOutput[] = [];
  for (const entry of index.data.outputs) {
    const file = byPath.get(entry.path);
    if (!file) {
      throw new WorldloopError(
        'ERR_OUTPUT_INVALID',
        `outputs.json lists ${entry.path}, which is not a file the processor wrote`,
      );
    }
    if (file.size_bytes !== entry.size_bytes) {
      throw new WorldloopError('ERR_DIGEST_MISMATCH', `${entry.path}: the file does not match its outputs.json entry`);
    }
    outputs.push({ relpath: file.relpath, entry });
    byPath.delete(entry.path);
  }
  if (byPath.size > 0) {
    const shown = [...byPath.keys()].slice(0, 5).join(', ');
    const more = byPath.size > 5 ? ` and ${byPath.size - 5} more` : '';
    throw new WorldloopError('ERR_OUTPUT_INVALID', `not in outputs.json: ${shown}${more}`);
  }
  return { outputs, receipt };
}

/** The one check that needs the bytes: each file's hashes against its index entry. */
export function matchDigest(planned: PlannedOutput, actual: { blake3: string; sha256: string; size_bytes: number }) {
  const e = planned.entry;
  if (actual.blake3 !== e.blake3 || actual.sha256 !== e.sha256 || actual.size_bytes !== e.size_bytes) {
    throw new WorldloopError('ERR_DIGEST_MISMATCH', `${e.path}: the file does not match its outputs.json entry`);
  }
}

/** Settle's re-check of a staging manifest read back from the world: the same rules, on recorded facts. */
export function verifyManifest(raw: unknown, ctx: Omit<CheckContext, 'limits'>): StagingManifest {
  const fields = (raw ?? {}) as { outputs?: unknown; receipt?: unknown };
  const index = OutputsIndexSchema.safeParse({ outputs: fields.outputs });
  if (!index.success) throw new WorldloopError('ERR_DIGEST_MISMATCH', 'the staging manifest is malformed');
  const receipt = parseReceipt(fields.receipt, ctx);
  assertNoDuplicates(index.data.outputs.map((o) => o.path));
  for (const o of index.data.outputs) {
    if (!o.path.startsWith(`${ctx.write_prefix}outputs/`)) {
      throw new WorldloopError('ERR_OUTPUT_INVALID', `${o.path} is not under ${ctx.write_prefix}outputs/`);
    }
  }
  return { outputs: index.data.outputs, receipt };
}
