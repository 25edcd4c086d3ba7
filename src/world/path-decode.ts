// Low-level text helpers for the WorldPath grammar (docs/architecture.md §4, rule 3 and rule 7). Pure: no Node APIs, so
// the grammar behaves the same wherever it is imported.

// `fatal` turns every ill-formed sequence (overlong forms such as %C0%AF, UTF-8-encoded surrogates, code points
// above U+10FFFF, truncated sequences) into an exception instead of a silent U+FFFD. `ignoreBOM` keeps a
// leading %EF%BB%BF as U+FEFF: the default would strip it and make two distinct inputs decode alike.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();

// A JS string can hold unpaired UTF-16 surrogates, which have no UTF-8 form (TextEncoder would quietly write
// U+FFFD). They are refused as "not UTF-8" so the canonical form always round-trips through bytes.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

export type DecodeResult = { ok: true; value: string } | { ok: false; reason: string };

/**
 * Percent-decodes one raw segment exactly once. Only the strict `%XX` form is an escape (two hex digits, either
 * case); a `%` followed by anything else is an error, never a literal. Literal characters and escaped bytes
 * are decoded together, so `%C3` followed by a literal `©` is caught as ill-formed UTF-8.
 */
export function percentDecodeOnce(segment: string): DecodeResult {
  if (LONE_SURROGATE.test(segment)) return { ok: false, reason: 'contains an unpaired UTF-16 surrogate' };
  if (!segment.includes('%')) return { ok: true, value: segment };
  const bytes: number[] = [];
  let i = 0;
  while (i < segment.length) {
    const next = segment.indexOf('%', i);
    const literalEnd = next === -1 ? segment.length : next;
    if (literalEnd > i) for (const b of utf8.encode(segment.slice(i, literalEnd))) bytes.push(b);
    if (next === -1) break;
    const hex = segment.slice(next + 1, next + 3);
    if (!HEX_PAIR.test(hex)) {
      return { ok: false, reason: `has a malformed escape ${JSON.stringify(segment.slice(next, next + 3))}` };
    }
    bytes.push(Number.parseInt(hex, 16));
    i = next + 3;
  }
  try {
    return { ok: true, value: strictUtf8.decode(Uint8Array.from(bytes)) };
  } catch {
    return { ok: false, reason: 'decodes to bytes that are not valid UTF-8' };
  }
}

// One UTF-8 length for the grammar and the inputs limits (pure, in contracts).
export { utf8Length } from '../contracts/inputs-limits';

/**
 * True when `s` has more than `limit` characters, counting Unicode code points (a surrogate pair is one
 * character, an unpaired surrogate is one too). Bounded work: huge inputs are decided from their length.
 */
export function longerThanChars(s: string, limit: number): boolean {
  if (s.length <= limit) return false;
  if (s.length > 2 * limit) return true;
  let n = 0;
  for (const _ of s) if (++n > limit) return true;
  return false;
}

/** Index of the first control character (U+0000–U+001F, U+007F), or -1. */
export function controlCharIndex(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f) return i;
  }
  return -1;
}
