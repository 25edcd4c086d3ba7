// The WorldPath grammar, exactly as docs/architecture.md §4 orders its rules. Every world read, write, lease and output
// name passes through `canonicalise`, so one canonical string names one file on every disk we run on.
//
// Decisions the design leaves open (each pinned by a test in tests/unit/world-path.test.ts):
// - The scheme is matched ASCII-case-insensitively (`WORLD://` is accepted and written `world://`), as
//   RFC 3986 §3.1 treats schemes. Facets and segments stay case-sensitive.
// - `world:/artifacts/x`, `world:artifacts/x` (the `//` typo) and any other scheme → ERR_BAD_FACET (rule 1:
//   neither `world://` nor a leading `/`), with a hint in the message. `world:///artifacts/x` and
//   `//artifacts/x` are accepted: the extra `/` are empty segments, which collapse (rule 2).
// - `?` and `#` are ordinary characters (literal or %3F/%23): a canonical WorldPath is not a URL and has no
//   query or fragment. Rule 9 re-encodes only `%`, so the canonical form shows them literally; never hand a
//   canonical path to a URL parser.
// - A prefix that names only the facet (`world://artifacts/`) is valid and selects the whole facet; the exact
//   `world://artifacts` is ERR_BAD_FACET (rule 8); `world://` and `/` name no facet → ERR_BAD_FACET.
// - "Characters" in rule 1 are Unicode code points (an unpaired surrogate counts as one and is later refused
//   as ERR_PERCENT_DECODE, since it has no UTF-8 form). A literal `\` is refused like a decoded one
//   (ERR_DECODED_SLASH): rule 3 looks at the decoded segment, and `\` is a separator on Windows disks.
// - Within a rule the checks run over all segments before the next rule starts, so the code reported is the
//   one of the earliest rule any segment breaks; the selector kind is checked last.
import { WorldloopError, type ErrorCode } from '../contracts/errors';
import { controlCharIndex, longerThanChars, percentDecodeOnce, utf8Length } from './path-decode';
import { foldKey } from './path-fold';

export type SelectorKind = 'exact' | 'prefix';
export type Facet = 'artifacts' | 'streams';

export const FACETS: readonly Facet[] = ['artifacts', 'streams'];
export const SCHEME = 'world://';
export const MAX_RAW_CHARS = 4096;
export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_BYTES = 1024;
export const RESERVED_SEGMENTS: readonly string[] = ['.git', '.well-known', '.worldloop'];

export interface CanonicalPath {
  /** `world://<facet>/<seg>/…`, ending in `/` for a prefix. */
  path: string;
  kind: SelectorKind;
  facet: Facet;
  /** The segments below the facet, percent-decoded and NFC; empty only for a facet-wide prefix. */
  segments: string[];
}

export type CanonResult = ({ ok: true } & CanonicalPath) | { ok: false; code: ErrorCode; message: string };

const RESERVED_KEYS = new Set(RESERVED_SEGMENTS.map(foldKey));
const SCHEME_PREFIX = /^[Ww][Oo][Rr][Ll][Dd]:\/\//;
const WORLD_SCHEME_TYPO = /^world:/i;
const OTHER_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// ASCII is its own NFC; skipping ICU for it keeps the common case cheap.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const fail = (code: ErrorCode, message: string): CanonResult => ({ ok: false, code, message });

/** A short, single-line, escaped rendering of user input for messages (control characters become \uXXXX). */
function show(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 61)}...` : s);
}

const isFacet = (s: string | undefined): s is Facet => s === 'artifacts' || s === 'streams';

/**
 * Canonicalises a WorldPath (docs/architecture.md §4). Never throws: a broken rule comes back as its catalogue code.
 * With `expected`, a selector of the other kind is ERR_SELECTOR_KIND_MISMATCH; without it either is accepted.
 */
export function canonicalise(raw: string, expected?: SelectorKind): CanonResult {
  if (typeof raw !== 'string') return fail('ERR_BAD_FACET', `a WorldPath must be a string, got ${typeof raw}`);

  // Rule 1: length before decoding, then the scheme or shorthand.
  if (longerThanChars(raw, MAX_RAW_CHARS)) {
    return fail('ERR_PATH_TOO_LONG', `the raw path is longer than ${MAX_RAW_CHARS} characters`);
  }
  let body: string;
  if (SCHEME_PREFIX.test(raw)) body = raw.slice(SCHEME.length);
  else if (raw.startsWith('/')) body = raw.slice(1);
  else if (WORLD_SCHEME_TYPO.test(raw)) {
    return fail('ERR_BAD_FACET', `${show(raw)} has "world:" without "//"; write world://<facet>/…`);
  } else if (OTHER_SCHEME.test(raw)) {
    return fail('ERR_BAD_FACET', `${show(raw)} uses a scheme other than world://`);
  } else return fail('ERR_BAD_FACET', `${show(raw)} starts with neither world:// nor /`);

  // Rule 2: split before decoding, so an escaped %2F can never become a separator.
  const kind: SelectorKind = raw.endsWith('/') ? 'prefix' : 'exact';
  const rawSegments = body.split('/').filter((s) => s !== '');

  // Rule 3: decode exactly once, then look for separators and control characters in what was decoded.
  const decoded: string[] = [];
  for (const [i, seg] of rawSegments.entries()) {
    const result = percentDecodeOnce(seg);
    if (!result.ok) return fail('ERR_PERCENT_DECODE', `segment ${i + 1} ${show(seg)} ${result.reason}`);
    decoded.push(result.value);
  }
  for (const [i, seg] of decoded.entries()) {
    if (seg.includes('/') || seg.includes('\\')) {
      return fail('ERR_DECODED_SLASH', `segment ${i + 1} ${show(rawSegments[i] ?? '')} contains / or \\ once decoded`);
    }
  }
  for (const [i, seg] of decoded.entries()) {
    const at = controlCharIndex(seg);
    if (at >= 0) {
      const cp = `U+${seg.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')}`;
      return fail('ERR_FORBIDDEN_CHAR', `segment ${i + 1} ${show(seg)} contains the control character ${cp}`);
    }
  }

  // Rule 4: one Unicode spelling per name.
  const segments = decoded.map((s) => (PRINTABLE_ASCII.test(s) ? s : s.normalize('NFC')));

  // Rule 5: after decoding, so %2e%2E is caught too.
  for (const [i, seg] of segments.entries()) {
    if (seg === '.' || seg === '..') {
      return fail('ERR_DOT_SEGMENTS', `segment ${i + 1} ${show(rawSegments[i] ?? '')} is a ${show(seg)} segment`);
    }
  }

  // Rule 6: reserved names, compared as a case-insensitive disk would.
  for (const [i, seg] of segments.entries()) {
    // Only a segment starting with '.' can fold to one (no case map or decomposition yields '.').
    if (seg.startsWith('.') && RESERVED_KEYS.has(foldKey(seg))) {
      return fail(
        'ERR_FORBIDDEN_SEGMENT',
        `segment ${i + 1} ${show(seg)} is reserved (${RESERVED_SEGMENTS.join(', ')})`,
      );
    }
  }

  // Rule 7: byte limits, per decoded segment and on the canonical form (the one that is stored).
  for (const [i, seg] of segments.entries()) {
    const bytes = utf8Length(seg);
    if (bytes > MAX_SEGMENT_BYTES) {
      return fail('ERR_SEGMENT_TOO_LONG', `segment ${i + 1} is ${bytes} UTF-8 bytes (at most ${MAX_SEGMENT_BYTES})`);
    }
  }
  const encoded = segments.map(encodeSegment);
  const path = `${SCHEME}${encoded.join('/')}${kind === 'prefix' && encoded.length > 0 ? '/' : ''}`;
  const pathBytes = utf8Length(path);
  if (pathBytes > MAX_PATH_BYTES) {
    return fail('ERR_PATH_TOO_LONG', `the canonical path is ${pathBytes} UTF-8 bytes (at most ${MAX_PATH_BYTES})`);
  }

  // Rule 8: a facet first, and an exact path must name something inside it.
  const [facet, ...below] = segments;
  if (facet === undefined) return fail('ERR_BAD_FACET', `${show(raw)} names no facet (${FACETS.join(', ')})`);
  if (!isFacet(facet)) return fail('ERR_BAD_FACET', `${show(facet)} is not a facet (${FACETS.join(', ')})`);
  if (kind === 'exact' && below.length === 0) {
    return fail('ERR_BAD_FACET', `${show(raw)} names only the facet; an exact path needs a segment after it`);
  }

  // Rule 9 happened above (encodeSegment); only the selector kind is left.
  if (expected !== undefined && expected !== kind) {
    return fail(
      'ERR_SELECTOR_KIND_MISMATCH',
      expected === 'prefix'
        ? `${path} is an exact path where a prefix (ending in /) is required`
        : `${path} is a prefix where an exact path (no trailing /) is required`,
    );
  }
  return { ok: true, path, kind, facet, segments: below };
}

/** Like `canonicalise`, but returns only the canonical string and throws a WorldloopError on a broken rule. */
export function canonicalPath(raw: string, expected?: SelectorKind): string {
  return parsePath(raw, expected).path;
}

/** Like `canonicalise`, but throws a WorldloopError on a broken rule. */
export function parsePath(raw: string, expected?: SelectorKind): CanonicalPath {
  const result = canonicalise(raw, expected);
  if (!result.ok) throw new WorldloopError(result.code, result.message);
  const { path, kind, facet, segments } = result;
  return { path, kind, facet, segments };
}

/** Rule 9: the only encoding a canonical segment carries. Apply it to a raw file name before joining. */
export function encodeSegment(decoded: string): string {
  return decoded.replaceAll('%', '%25');
}

/**
 * Joins a prefix and a relative file path such as `outputs/a b.json` into a canonical exact path. Each
 * relative segment is a raw file name (a `%` in it is literal), so it is encoded before canonicalising; a
 * leading or doubled `/` collapses. Throws the grammar's codes, ERR_SELECTOR_KIND_MISMATCH when `prefix` is
 * not a prefix or `relative` names no file (empty, or ending in `/`).
 */
export function joinWorldPath(prefix: string, relative: string): string {
  const base = canonicalPath(prefix, 'prefix');
  const parts = String(relative).split('/');
  if (parts.every((p) => p === '')) {
    throw new WorldloopError('ERR_SELECTOR_KIND_MISMATCH', `relative path ${show(String(relative))} names no file`);
  }
  const joined = canonicalPath(`${base}${parts.map(encodeSegment).join('/')}`, 'exact');
  // Dot segments are refused, so nothing can climb out of `base`; checked anyway because leases rely on it.
  if (!joined.startsWith(base)) throw new WorldloopError('ERR_INVARIANT', `${joined} escaped ${base}`);
  return joined;
}

/**
 * True when `path` (exact or prefix) lies under `prefix`. Byte-exact on canonical forms, never case-folded:
 * this answers "may this be written here", where folding would widen what a grant allows. Both arguments
 * are canonicalised first (any accepted spelling works); invalid ones throw their code, and an exact path
 * given as `prefix` throws ERR_SELECTOR_KIND_MISMATCH.
 */
export function isUnderPrefix(prefix: string, path: string): boolean {
  const p = canonicalPath(prefix, 'prefix');
  return canonicalPath(path).startsWith(p);
}

/**
 * Lease overlap: exact vs exact when equal, prefix vs exact when the prefix contains it, prefix vs prefix
 * when one contains the other. Compared under case folding (see path-fold.ts), because two names that differ
 * only in case are one file on a case-insensitive disk; a lease that is too wide only serialises, one that is
 * too narrow lets two writers race. Both arguments are canonicalised first; invalid ones throw their code.
 */
export function prefixesOverlap(a: string, b: string): boolean {
  const ca = parsePath(a);
  const cb = parsePath(b);
  // Folding is applied to whole canonical strings; a prefix ends in `/`, which no case map or NFD step
  // moves or merges, so fold(prefix) stays a prefix of fold(path) for every path under it.
  const ka = foldKey(ca.path);
  const kb = foldKey(cb.path);
  if (ca.kind === 'exact' && cb.kind === 'exact') return ka === kb;
  if (ca.kind === 'prefix' && cb.kind === 'prefix') return ka.startsWith(kb) || kb.startsWith(ka);
  return ca.kind === 'prefix' ? kb.startsWith(ka) : ka.startsWith(kb);
}
