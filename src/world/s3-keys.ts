// How store keys become S3 object keys (docs/scale-out.md). Store keys may be up to MAX_KEY_BYTES (3200)
// long because world-path segments are percent-encoded (store-keys.ts), but S3 keys stop at 1024 UTF-8
// bytes. The mapping this anticipated:
//
// - a key that fits under the bucket prefix is stored under its own name (every key but a few index and
//   quarantine entries of very long, non-ASCII world paths);
// - a longer key keeps its longest leading run of whole segments that still fits, and its last segment
//   becomes `!` + BLAKE3(key): `<prefix><head>/!<hex>`. `!` is outside the key alphabet, so such a name never
//   collides with a stored-as-is key, and the head keeps it in the folder a listing of its ancestors visits;
// - the object body of such a key starts with a frame line naming the whole key (`LONG_KEY_FRAME`), so a
//   listing can give back the real key and a read can check that the hash named the right object.
//
// Every head is long: its next segment (at most 255 bytes) did not fit, so the mapped head alone is more
// than HEAD_FLOOR bytes. A listing of a short prefix therefore never has to look above it for long keys.
import { blake3Hex } from '../hashing';
import { WorldloopError } from '../contracts/errors';

export const S3_MAX_KEY_BYTES = 1024;
const HASHED_NAME_BYTES = 1 + 64; // "!" + BLAKE3 hex
const MAX_SEGMENT_BYTES = 255;
const LONG_KEY_MARK = '!';
const FRAME_MAGIC = 'worldloop-long-key/1\n';

const utf8 = new TextEncoder();
const byteLength = (s: string): number => utf8.encode(s).byteLength;

/** A mapped head is always longer than this many bytes (prefix included); see the file comment. */
const HEAD_FLOOR = S3_MAX_KEY_BYTES - HASHED_NAME_BYTES - 1 - MAX_SEGMENT_BYTES - 1;

/** The bucket prefix: empty, or segments ending in `/`. */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

function hashedName(head: string, key: string): string {
  const name = `${LONG_KEY_MARK}${blake3Hex(utf8.encode(key))}`;
  return head === '' ? name : `${head}/${name}`;
}

/** The S3 object key of a store key under `prefix` (normalised). */
export function s3KeyOf(prefix: string, key: string): string {
  if (byteLength(prefix) + byteLength(key) <= S3_MAX_KEY_BYTES) return `${prefix}${key}`;
  const segments = key.split('/');
  let head = '';
  // Grow the head one segment at a time while the hashed name still fits; the last segment never joins it.
  for (const seg of segments.slice(0, -1)) {
    const next = head === '' ? seg : `${head}/${seg}`;
    if (byteLength(prefix) + byteLength(next) + 1 + HASHED_NAME_BYTES > S3_MAX_KEY_BYTES) break;
    head = next;
  }
  const mapped = `${prefix}${hashedName(head, key)}`;
  if (byteLength(mapped) > S3_MAX_KEY_BYTES) {
    throw new WorldloopError('ERR_INVARIANT', `the S3 prefix ${JSON.stringify(prefix)} leaves no room for keys`);
  }
  return mapped;
}

/** True when an S3 key (relative to the prefix) is the hashed name of a long key. */
export function isHashedName(relative: string): boolean {
  const last = relative.slice(relative.lastIndexOf('/') + 1);
  return last.startsWith(LONG_KEY_MARK);
}

/** True when the store key is stored under a hashed name (and so its body is framed). */
export function isLongKey(prefix: string, key: string): boolean {
  return byteLength(prefix) + byteLength(key) > S3_MAX_KEY_BYTES;
}

/** The frame line written before the bytes of a long key's object. */
export function longKeyFrame(key: string): Uint8Array {
  return utf8.encode(`${FRAME_MAGIC}${key}\n`);
}

/** The longest a frame can be (for a ranged read that recovers a key). */
export const MAX_FRAME_BYTES = byteLength(FRAME_MAGIC) + 3200 + 1;

/** Reads the key out of the start of a framed object; undefined when the bytes are not a frame. */
export function keyFromFrame(start: Uint8Array): { key: string; frameBytes: number } | undefined {
  const text = new TextDecoder().decode(start);
  if (!text.startsWith(FRAME_MAGIC)) return undefined;
  const end = text.indexOf('\n', FRAME_MAGIC.length);
  if (end < 0) return undefined;
  const key = text.slice(FRAME_MAGIC.length, end);
  return { key, frameBytes: byteLength(text.slice(0, end + 1)) };
}

/**
 * The S3 listing prefixes that together cover every store key starting with `prefix`: the prefix itself,
 * plus, for a long prefix, the hashed-name folders of its ancestors (a long key whose head is shorter than
 * `prefix` lives there). Callers filter the recovered keys by `prefix`.
 */
export function listingPrefixes(storePrefix: string, prefix: string): string[] {
  const out = [`${storePrefix}${prefix}`];
  const base = byteLength(storePrefix);
  // Ancestors `h` with `h/` a proper prefix of `prefix` (for `h/` == prefix the main listing covers it).
  const heads: string[] = [];
  let scan = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  for (let cut = scan.lastIndexOf('/'); cut >= 0; cut = scan.lastIndexOf('/')) {
    scan = scan.slice(0, cut);
    heads.push(scan);
  }
  if (prefix !== '') heads.push('');
  for (const head of heads) {
    const room = base + byteLength(head) + (head === '' ? 0 : 1) + HASHED_NAME_BYTES;
    if (room > S3_MAX_KEY_BYTES || base + byteLength(head) <= HEAD_FLOOR) continue;
    out.push(`${storePrefix}${head === '' ? '' : `${head}/`}${LONG_KEY_MARK}`);
  }
  return out;
}
