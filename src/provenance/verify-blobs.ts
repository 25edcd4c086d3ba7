// Reading what the world holds at a path without trusting it: the raw blob bytes, re-hashed with BLAKE3 and
// SHA-256 here, so a verifier reports *which* path broke instead of the store's generic digest error.
import { createHash } from 'node:crypto';
import { blake3Hex } from '../hashing';
import { blobKey, type WorldEntry, type WorldStore } from '../world';

export interface RehashedBlob {
  entry: WorldEntry;
  bytes: Uint8Array;
  blake3: string;
  sha256: string;
}

/** The entry bound at `path` and its blob re-hashed; undefined when nothing is bound or the blob is gone. */
export async function rehash(world: WorldStore, path: string): Promise<RehashedBlob | undefined> {
  const entry = await world.stat(path);
  if (!entry) return undefined;
  const bytes = await world.objects.get(blobKey(entry.blake3));
  if (!bytes) return undefined;
  return {
    entry,
    bytes,
    blake3: blake3Hex(bytes),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Why a re-hashed blob is not what `expected` records ('' when it is). */
export function digestProblem(
  got: RehashedBlob,
  expected: { blake3: string; sha256?: string; size_bytes?: number },
): string {
  const problems: string[] = [];
  if (got.entry.blake3 !== expected.blake3) problems.push(`index names blake3 ${got.entry.blake3}`);
  if (got.blake3 !== expected.blake3) problems.push(`bytes hash to blake3 ${got.blake3}, not ${expected.blake3}`);
  if (expected.sha256 !== undefined && got.sha256 !== expected.sha256)
    problems.push(`bytes hash to sha256 ${got.sha256}, not ${expected.sha256}`);
  if (expected.size_bytes !== undefined && got.bytes.byteLength !== expected.size_bytes)
    problems.push(`${got.bytes.byteLength} bytes, not ${expected.size_bytes}`);
  return problems.join('; ');
}
