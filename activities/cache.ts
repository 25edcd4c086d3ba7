// The result cache for deterministic processors (docs/architecture.md §5). A record names the execution whose
// verified outputs it re-uses; a hit is only trusted after every blob hashes to its recorded digest.
import type { WorldStore } from '../src/world';
import type { CacheRecord } from './types';

export const cacheRecordKey = (key: string): string => `cache/${key}`;

/** Returns the record when every cached blob still verifies; a damaged entry counts as a miss. */
export async function lookupCache(world: WorldStore, key: string): Promise<CacheRecord | undefined> {
  const record = (await world.getJson(cacheRecordKey(key))) as CacheRecord | undefined;
  if (!record) return undefined;
  try {
    for (const output of record.outputs) await world.readBlob(output.blake3);
  } catch {
    return undefined;
  }
  return record;
}
