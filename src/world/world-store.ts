// The world: content-addressed blobs plus an index from canonical world paths to digests (docs/architecture.md §2, §6).
// A path, once bound, never changes: binding the same digest again is a no-op, a different digest is
// ERR_WORLD_CONFLICT. Nothing is ever deleted; a failing predicate quarantines a path with a separate
// append-only marker, leaving the index entry as it was. Every read re-hashes what it returns, so a blob
// that rotted on disk surfaces as ERR_DIGEST_MISMATCH instead of as wrong bytes.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { WorldloopError } from '../contracts/errors';
import { writeFileAtomic } from '../write-file-atomic';
import { blake3Hex, canonicalize, createBlake3, hashFile, parseJsonBytes } from '../hashing';
import { validateKey, type ContentCheck, type ObjectStore, type PutResult } from './object-store';
import { mapLimit } from './map-limit';
import { canonicalPath } from './path';
import { NAMESPACES, blobKey, pathKey, prefixKey } from './store-keys';

export interface BlobDigest {
  blake3: string;
  sha256: string;
  size_bytes: number;
}

/** One index entry: what a world path is bound to. */
export interface WorldEntry extends BlobDigest {
  path: string;
  mime: string;
  execution_id: string;
  written_at: string;
}

export type BindInput = Omit<WorldEntry, 'path' | 'written_at'> & { written_at?: string };

export interface QuarantineMarker {
  path: string;
  execution_id: string;
  reason: string;
  at: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const RESERVED_RECORD_ROOTS = new Set(Object.values(NAMESPACES).map((ns) => ns.split('/')[0]));
const LIST_CONCURRENCY = 32;

function assertDigest(value: string, what: string): void {
  if (!HEX64.test(value)) throw new WorldloopError('ERR_INPUTS', `${what} must be 64 lower-case hex characters`);
}

function jcsBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

function incrementalCheck(expected: BlobDigest, what: string): ContentCheck & { actual(): BlobDigest } {
  const b3 = createBlake3();
  const sha = createHash('sha256');
  let size = 0;
  let result: BlobDigest | undefined;
  return {
    update(chunk) {
      b3.update(chunk);
      sha.update(chunk);
      size += chunk.byteLength;
    },
    finish() {
      result = { blake3: b3.digestHex(), sha256: sha.digest('hex'), size_bytes: size };
      if (result.blake3 !== expected.blake3 || result.size_bytes !== expected.size_bytes) {
        throw new WorldloopError(
          'ERR_DIGEST_MISMATCH',
          `${what}: expected blake3 ${expected.blake3} (${expected.size_bytes} bytes), got ${result.blake3} (${size} bytes)`,
        );
      }
    },
    actual() {
      if (!result) throw new Error('incrementalCheck: finish() was not called');
      return result;
    },
  };
}

function parseEntry(bytes: Uint8Array, key: string): WorldEntry {
  const v = parseJsonBytes(bytes) as Partial<WorldEntry> | null;
  if (
    !v ||
    typeof v.path !== 'string' ||
    typeof v.blake3 !== 'string' ||
    typeof v.sha256 !== 'string' ||
    typeof v.size_bytes !== 'number' ||
    typeof v.mime !== 'string' ||
    typeof v.execution_id !== 'string' ||
    typeof v.written_at !== 'string'
  ) {
    throw new WorldloopError('ERR_DIGEST_MISMATCH', `index record ${key} is malformed`);
  }
  return v as WorldEntry;
}

export class WorldStore {
  constructor(readonly objects: ObjectStore) {}

  // ---- blobs -------------------------------------------------------------------------------------------

  async putBlob(bytes: Uint8Array): Promise<BlobDigest> {
    const digest: BlobDigest = {
      blake3: blake3Hex(bytes),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size_bytes: bytes.byteLength,
    };
    await this.objects.putIfAbsent(blobKey(digest.blake3), bytes);
    return digest;
  }

  /**
   * Streams a file into the blob store. The file is hashed first (to name the blob) — unless the caller has
   * just hashed it and passes what it found as `expected` — and hashed again while it is copied; if it changed
   * in between, nothing is published and ERR_DIGEST_MISMATCH is thrown. A copy returns the digests it
   * computed while copying (so a SHA-256 that differs from `expected` shows to the caller).
   */
  async putBlobFromFile(path: string, expected?: BlobDigest): Promise<BlobDigest> {
    const digest = expected ?? (await hashFile(path));
    const check = incrementalCheck(digest, path);
    const put = await this.objects.putFileIfAbsent(blobKey(digest.blake3), path, check);
    const stored = put === 'created' ? check.actual() : digest;
    return { blake3: stored.blake3, sha256: stored.sha256, size_bytes: stored.size_bytes };
  }

  async hasBlob(blake3: string): Promise<boolean> {
    assertDigest(blake3, 'blake3');
    return this.objects.has(blobKey(blake3));
  }

  /** The blob's bytes, verified against its name. */
  async readBlob(blake3: string): Promise<Uint8Array> {
    assertDigest(blake3, 'blake3');
    const bytes = await this.objects.get(blobKey(blake3));
    if (!bytes)
      throw new WorldloopError('ERR_DIGEST_MISMATCH', `blob ${blake3} is missing from ${this.objects.description}`);
    const actual = blake3Hex(bytes);
    if (actual !== blake3) {
      throw new WorldloopError('ERR_DIGEST_MISMATCH', `blob ${blake3} now hashes to ${actual}`);
    }
    return bytes;
  }

  // ---- the path index ----------------------------------------------------------------------------------

  /** Binds a world path to a stored blob. 'unchanged' when it is already bound to the same digest. */
  async bind(path: string, input: BindInput): Promise<'created' | 'unchanged'> {
    const canonical = canonicalPath(path, 'exact');
    assertDigest(input.blake3, 'blake3');
    assertDigest(input.sha256, 'sha256');
    if (!Number.isSafeInteger(input.size_bytes) || input.size_bytes < 0) {
      throw new WorldloopError('ERR_INPUTS', `size_bytes must be a non-negative integer, got ${input.size_bytes}`);
    }
    if (!(await this.hasBlob(input.blake3))) {
      throw new WorldloopError('ERR_NOT_FOUND', `cannot bind ${canonical}: blob ${input.blake3} is not in the store`);
    }
    const entry: WorldEntry = {
      path: canonical,
      blake3: input.blake3,
      sha256: input.sha256,
      size_bytes: input.size_bytes,
      mime: input.mime,
      execution_id: input.execution_id,
      written_at: input.written_at ?? new Date().toISOString(),
    };
    const key = pathKey(NAMESPACES.index, canonical);
    if ((await this.objects.putIfAbsent(key, jcsBytes(entry))) === 'created') return 'created';
    const existing = await this.stat(canonical);
    if (existing?.blake3 === entry.blake3) return 'unchanged';
    throw new WorldloopError(
      'ERR_WORLD_CONFLICT',
      `${canonical} is bound to blake3 ${existing?.blake3 ?? '?'} (execution ${existing?.execution_id ?? '?'}); refusing ${entry.blake3}`,
    );
  }

  async stat(path: string): Promise<WorldEntry | undefined> {
    const canonical = canonicalPath(path, 'exact');
    const key = pathKey(NAMESPACES.index, canonical);
    const bytes = await this.objects.get(key);
    if (!bytes) return undefined;
    const entry = parseEntry(bytes, key);
    if (entry.path !== canonical) {
      throw new WorldloopError('ERR_DIGEST_MISMATCH', `index record ${key} names ${entry.path}, not ${canonical}`);
    }
    return entry;
  }

  private async mustStat(path: string): Promise<WorldEntry> {
    const entry = await this.stat(path);
    if (!entry) throw new WorldloopError('ERR_NOT_FOUND', `nothing is bound at ${canonicalPath(path, 'exact')}`);
    return entry;
  }

  /** The bytes bound at `path`, verified against the index entry. */
  async readBytes(path: string): Promise<Uint8Array> {
    const entry = await this.mustStat(path);
    const bytes = await this.readBlob(entry.blake3);
    if (bytes.byteLength !== entry.size_bytes) {
      throw new WorldloopError(
        'ERR_DIGEST_MISMATCH',
        `${entry.path}: index says ${entry.size_bytes} bytes, blob has ${bytes.byteLength}`,
      );
    }
    return bytes;
  }

  /**
   * Copies the bytes bound at `path` to a local file, verifying BLAKE3 and SHA-256 while streaming. The
   * destination appears only complete and verified (temp file + link/rename).
   */
  async copyTo(path: string, destFile: string, options: { overwrite?: boolean } = {}): Promise<WorldEntry> {
    const entry = await this.mustStat(path);
    const stream = await this.objects.openRead(blobKey(entry.blake3));
    if (!stream) {
      throw new WorldloopError(
        'ERR_DIGEST_MISMATCH',
        `blob ${entry.blake3} of ${entry.path} is missing from the store`,
      );
    }
    const check = incrementalCheck(entry, entry.path);
    const verifiedCopy = async (fh: FileHandle): Promise<void> => {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        check.update(chunk);
        await fh.write(chunk);
      }
      check.finish();
      if (check.actual().sha256 !== entry.sha256) {
        throw new WorldloopError('ERR_DIGEST_MISMATCH', `${entry.path}: sha256 differs from the index entry`);
      }
    };
    try {
      await writeFileAtomic(destFile, verifiedCopy, { exclusive: !options.overwrite });
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') {
        throw new WorldloopError('ERR_USAGE', `${destFile} already exists; refusing to overwrite it`);
      }
      throw err;
    }
    return entry;
  }

  /** Every entry under a canonical world prefix (`world://artifacts/x/`), sorted by path. */
  async list(prefix: string): Promise<WorldEntry[]> {
    const canonical = canonicalPath(prefix, 'prefix');
    const keys = await this.objects.list(prefixKey(NAMESPACES.index, canonical));
    const entries = await mapLimit(keys, LIST_CONCURRENCY, async (key) => {
      const bytes = await this.objects.get(key);
      // Retryable on purpose: index records are never deleted, so a listed key that reads as missing is a
      // backend whose listing ran ahead of its reads; another attempt sees it.
      if (!bytes) throw new WorldloopError('ERR_INTERNAL', `index record ${key} vanished while listing`);
      return parseEntry(bytes, key);
    });
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  // ---- quarantine --------------------------------------------------------------------------------------

  /** Marks a bound path as quarantined. Append-only and idempotent: the first marker stands. */
  async quarantine(path: string, why: { execution_id: string; reason: string }): Promise<PutResult> {
    const entry = await this.mustStat(path);
    const marker: QuarantineMarker = {
      path: entry.path,
      execution_id: why.execution_id,
      reason: why.reason,
      at: new Date().toISOString(),
    };
    return this.objects.putIfAbsent(pathKey(NAMESPACES.quarantine, entry.path), jcsBytes(marker));
  }

  async quarantineMarker(path: string): Promise<QuarantineMarker | undefined> {
    const bytes = await this.objects.get(pathKey(NAMESPACES.quarantine, canonicalPath(path, 'exact')));
    return bytes ? (parseJsonBytes(bytes) as QuarantineMarker) : undefined;
  }

  async isQuarantined(path: string): Promise<boolean> {
    return this.objects.has(pathKey(NAMESPACES.quarantine, canonicalPath(path, 'exact')));
  }

  /** Canonical paths quarantined under a prefix (one listing, for `world ls`). */
  async quarantinedUnder(prefix: string): Promise<Set<string>> {
    const canonical = canonicalPath(prefix, 'prefix');
    const keys = await this.objects.list(prefixKey(NAMESPACES.quarantine, canonical));
    const markers = await mapLimit(keys, LIST_CONCURRENCY, async (key) => {
      const bytes = await this.objects.get(key);
      return bytes ? (parseJsonBytes(bytes) as QuarantineMarker).path : undefined;
    });
    return new Set(markers.filter((p): p is string => p !== undefined));
  }

  // ---- records (cache entries and the like) ------------------------------------------------------------

  private recordKey(name: string): string {
    validateKey(name);
    if (RESERVED_RECORD_ROOTS.has(name.split('/')[0])) {
      throw new WorldloopError('ERR_INVARIANT', `record name ${name} is inside a reserved namespace`);
    }
    return name;
  }

  /** Stores a JSON record (JCS bytes) under `name`, e.g. `cache/<key>`, unless one is there already. */
  async putJsonIfAbsent(name: string, value: unknown): Promise<PutResult> {
    return this.objects.putIfAbsent(this.recordKey(name), jcsBytes(value));
  }

  async getJson<T = unknown>(name: string): Promise<T | undefined> {
    const bytes = await this.objects.get(this.recordKey(name));
    return bytes ? (parseJsonBytes(bytes) as T) : undefined;
  }
}
