// How world paths and records map onto object keys. A canonical world path may hold any Unicode (and up
// to 255 bytes per segment); object keys hold a small portable alphabet with at most 255 bytes per
// segment. The mapping is per segment, so a world prefix maps onto a key prefix and listing a folder of the
// world is one listing of the store:
//
//   world://artifacts/a B/ü.txt  →  index/artifacts/a%20%42/%C3%BC.txt@
//
// - bytes outside [a-z0-9._-] are percent-encoded (upper-case hex), so the encoding is injective — also
//   under case folding: literals are lower-case and escapes upper-case, so a case-insensitive disk (macOS)
//   never merges two keys of distinct world paths;
// - an encoded segment longer than 200 bytes becomes `~` + BLAKE3 of the segment (`~` is always encoded,
//   so the two forms never collide; the entry itself records the full path);
// - an exact path's key ends in `@` (also always encoded), so `world://a/b` and `world://a/b/c` can both
//   exist on a disk where `b` must be either a file or a folder.
import { blake3Hex } from '../hashing';
import { WorldloopError } from '../contracts/errors';

const KEEP = /^[a-z0-9._-]$/;
const MAX_ENCODED_SEGMENT = 200;
const utf8 = new TextEncoder();

export const NAMESPACES = {
  blobs: 'blobs/blake3/',
  index: 'index/',
  quarantine: 'quarantine/',
  plans: 'plans/',
  leases: 'leases/',
} as const;

export function encodeKeySegment(segment: string): string {
  let out = '';
  for (const byte of utf8.encode(segment)) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && KEEP.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out.length > MAX_ENCODED_SEGMENT ? `~${blake3Hex(utf8.encode(segment))}` : out;
}

/** Splits `world://facet/a/b` or `world://facet/a/` into segments (the canonical form is assumed). */
function segmentsOf(canonical: string): string[] {
  if (!canonical.startsWith('world://')) throw new WorldloopError('ERR_BAD_FACET', canonical);
  const body = canonical.slice('world://'.length);
  const trimmed = body.endsWith('/') ? body.slice(0, -1) : body;
  return trimmed.split('/');
}

/** The key of an exact canonical world path under a namespace (`index/` or `quarantine/`). */
export function pathKey(namespace: string, canonicalExact: string): string {
  const segs = segmentsOf(canonicalExact).map(encodeKeySegment);
  return `${namespace}${segs.join('/')}@`;
}

/** The key prefix of every exact path under a canonical world prefix. */
export function prefixKey(namespace: string, canonicalPrefix: string): string {
  const segs = segmentsOf(canonicalPrefix).map(encodeKeySegment);
  return `${namespace}${segs.join('/')}/`;
}

export function blobKey(blake3: string): string {
  return `${NAMESPACES.blobs}${blake3}`;
}
