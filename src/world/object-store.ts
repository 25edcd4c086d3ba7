// The one storage primitive everything in the world sits on (blobs, the path index, quarantine markers,
// cache records, the plan and lease ledgers). It is deliberately the intersection of what a local disk and
// an S3-compatible bucket can do atomically: create-only writes (`If-None-Match: *` on S3, link() on disk),
// whole-object reads and sorted listing. There is no overwrite and no delete — every record is append-only,
// which is what makes the ledger's optimistic concurrency and the world's "a path never changes" safe.
import type { Readable } from 'node:stream';
import { WorldloopError } from '../contracts/errors';

export type PutResult = 'created' | 'exists';

/**
 * Observes the bytes of a streamed write before they are published. `finish` runs after the last chunk
 * and before the object becomes visible; throwing there aborts the write (nothing is published). This is
 * how a content-addressed store refuses a file that changed between hashing and copying.
 */
export interface ContentCheck {
  update(chunk: Uint8Array): void;
  finish(): void;
}

export interface ObjectStore {
  /** The whole object, or undefined when no object has this key. */
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  /** Atomic create-only write: exactly one concurrent writer of a key gets 'created'; readers never see half an object. */
  putIfAbsent(key: string, bytes: Uint8Array): Promise<PutResult>;
  /** As putIfAbsent, streaming from a local file so big blobs never sit in memory. */
  putFileIfAbsent(key: string, srcPath: string, check?: ContentCheck): Promise<PutResult>;
  /** Every key starting with `prefix` (a plain string prefix), sorted by UTF-16 code units. */
  list(prefix: string): Promise<string[]>;
  /** A byte stream of the object, or undefined when absent. */
  openRead(key: string): Promise<Readable | undefined>;
  /** Where the store lives, for messages only. */
  readonly description: string;
}

// Keys are `/`-separated segments of a small, portable alphabet: valid as S3 keys, as file names on every
// disk, and free of anything a shell or URL would reinterpret. `.`/`..` and empty segments are refused so a
// key can never walk out of the store root.
const SEGMENT = /^[A-Za-z0-9._~%@=+-]{1,255}$/;
// World paths are at most 1024 UTF-8 bytes canonical; percent-encoding every byte of them (store-keys.ts)
// can triple that, so keys may be up to ~3.1 KB — within Linux PATH_MAX under any sensible root. An S3
// backend (1024-byte keys) needs a denser mapping of the index namespace; nothing else comes close.
export const MAX_KEY_BYTES = 3200;

export function validateKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_BYTES) {
    throw new WorldloopError('ERR_INVARIANT', `object key has invalid length ${key.length}`);
  }
  for (const seg of key.split('/')) {
    if (!SEGMENT.test(seg) || seg === '.' || seg === '..') {
      throw new WorldloopError('ERR_INVARIANT', `invalid object key ${JSON.stringify(key)}`);
    }
  }
  return key;
}

/** Validates a listing prefix: like a key, but it may be empty or end with `/`. */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  validateKey(body);
  return prefix;
}
