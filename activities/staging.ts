// Staging: what Execute does with the processor's out/ folder once the container has finished. The tree is
// walked with lstat only (no link is followed, nothing is read), every refusal Settle could make from the
// tree, outputs.json and receipt.json is decided, each indexed file is hashed and compared with its entry,
// and only then are the indexed files copied into the store (append-only: a refused run adds nothing).
// The verified facts go into the world as one JCS blob (the manifest); only its digest crosses Temporal.
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WorldloopError } from '../src/contracts';
import { canonicalize, hashFile, parseJsonBytes } from '../src/hashing';
import { mapLimit, type WorldStore } from '../src/world';
import {
  MAX_PROCESSOR_RECEIPT_BYTES,
  matchDigest,
  maxIndexBytes,
  planStaging,
  type CheckContext,
  type OutputTree,
  type StagingManifest,
  type TreeFile,
} from './output-check';
import type { StagingOutcome } from './types';

const TOP_LEVEL_ALLOWED = new Set(['outputs', 'outputs.json', 'receipt.json']);
/** Outputs copied into the store at once (independent blobs; their fsyncs share the disk's flushes). */
const STAGING_CONCURRENCY = 8;

/**
 * Reads a file of at most `max` bytes: undefined when it is missing or not a regular file;
 * ERR_OUTPUT_TOO_LARGE when bigger (decided by lstat, before reading). Reads through one handle, so a file
 * that grows after the check still yields at most `max` bytes.
 */
export async function readBounded(path: string, max: number, what: string): Promise<Uint8Array | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  if (info.size > max) {
    throw new WorldloopError('ERR_OUTPUT_TOO_LARGE', `${what} is ${info.size} bytes, above the ${max} bytes read`);
  }
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(max + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > max) throw new WorldloopError('ERR_OUTPUT_TOO_LARGE', `${what} grew above ${max} bytes`);
    }
    return buf.subarray(0, filled);
  } finally {
    await fh.close();
  }
}

async function readJsonBounded(path: string, max: number, what: string): Promise<unknown> {
  const bytes = await readBounded(path, max, what);
  if (!bytes) return undefined;
  try {
    return parseJsonBytes(bytes);
  } catch {
    return undefined; // not JSON: the schema check reports it as missing or malformed
  }
}

/** Walks out/ without following links; anything but a regular file or folder is a violation. */
export async function walkOutputs(outDir: string): Promise<OutputTree> {
  const files: TreeFile[] = [];
  const violations: string[] = [];
  const top = await readdir(outDir).catch(() => undefined);
  if (!top) return { files, violations: ['the processor left no out/ folder'] };
  for (const name of top) if (!TOP_LEVEL_ALLOWED.has(name)) violations.push(`unexpected ${name} outside outputs/`);
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(outDir, rel));
    for (const name of entries.sort()) {
      const relpath = `${rel}/${name}`;
      const info = await lstat(join(outDir, relpath));
      if (info.isSymbolicLink()) violations.push(`${relpath} is a symbolic link`);
      else if (info.isDirectory()) await walk(relpath);
      else if (!info.isFile()) violations.push(`${relpath} is not a regular file`);
      else if (info.nlink > 1) violations.push(`${relpath} is a hard link`);
      else files.push({ relpath, size_bytes: info.size });
    }
  };
  const outputs = await lstat(join(outDir, 'outputs')).catch(() => undefined);
  if (outputs?.isDirectory()) await walk('outputs');
  else if (outputs) violations.push('outputs is not a folder');
  return { files, violations };
}

/** Decides, then copies. A refusal is returned (for Settle to raise), never half staged. */
export async function stageOutputs(world: WorldStore, outDir: string, ctx: CheckContext): Promise<StagingOutcome> {
  let manifest: StagingManifest;
  try {
    const tree = await walkOutputs(outDir);
    const index = await readJsonBounded(join(outDir, 'outputs.json'), maxIndexBytes(ctx.limits), 'outputs.json');
    const receipt = await readJsonBounded(join(outDir, 'receipt.json'), MAX_PROCESSOR_RECEIPT_BYTES, 'receipt.json');
    const plan = planStaging(tree, index, receipt, ctx);
    for (const p of plan.outputs) matchDigest(p, await hashFile(join(outDir, p.relpath)));
    manifest = { outputs: plan.outputs.map((p) => p.entry), receipt: plan.receipt };
    // Only now does anything enter the store; the copy is hashed against the digest just checked (not
    // hashed a third time to name the blob), so a file changed since the check above is refused there
    // (ERR_DIGEST_MISMATCH) rather than stored.
    await mapLimit(plan.outputs, STAGING_CONCURRENCY, async (p) => {
      const stored = await world.putBlobFromFile(join(outDir, p.relpath), p.entry);
      matchDigest(p, stored);
    });
  } catch (err) {
    // Refusals are final; a retryable code (a store hiccup) propagates so Temporal retries Execute.
    if (err instanceof WorldloopError && !err.spec.retryable) {
      return { status: 'refused', code: err.code, message: err.detail };
    }
    throw err;
  }
  const stored = await world.putBlob(new TextEncoder().encode(canonicalize(manifest)));
  return {
    status: 'staged',
    manifest: { blake3: stored.blake3, size_bytes: stored.size_bytes },
    files: manifest.outputs.length,
    total_bytes: manifest.outputs.reduce((n, o) => n + o.size_bytes, 0),
  };
}
