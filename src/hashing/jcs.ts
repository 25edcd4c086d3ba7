// RFC 8785 JSON Canonicalization Scheme (JCS), written here rather than taken from npm: `canonicalize`
// needed Node 22 while this module was also bundled into processor containers on Node 18 (they run Node 24
// now, ADR 0019; the module stays, tested and dependency-free).
//
// Policy beyond RFC 8785 (docs/architecture.md §5: inputs that are not I-JSON are rejected with ERR_INPUTS, and the
// message names the place as a JSON Pointer, RFC 6901):
// - Lone surrogates in strings or keys, NaN and ±Infinity: rejected (RFC 8785 §3.1 requires I-JSON).
// - Any finite double is accepted, whatever its magnitude: ECMAScript's shortest form, which RFC 8785
//   prescribes, reads back as the same double, so distinct doubles never share a form. What a double
//   cannot do is hold every literal exactly; that is checked where the text is still there, by the JSON
//   reader (src/hashing/json-text.ts, ADR 0010, which supersedes ADR 0003's magnitude limit).
// - −0 serialises as 0 (RFC 8785 Appendix B), so it hashes like 0.
// - Only plain data: objects whose prototype is Object.prototype or null, dense real arrays, strings,
//   finite numbers, booleans, null. undefined (anywhere, including as a property value — JSON.stringify
//   would drop it silently), functions, symbols, bigint, Date (no toJSON is honoured), Map, Set, boxed
//   primitives, typed arrays, class instances, sparse arrays, symbol-keyed properties and cycles are
//   rejected. A repeated (non-cyclic) reference is fine: it is data twice.
import { WorldloopError } from '../contracts/errors';
import { jsonPointerOf } from '../contracts/inputs-limits';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** JSON Pointer (RFC 6901) of a path, for error messages: the one writer, in src/contracts/inputs-limits.ts. */
export const jsonPointer = jsonPointerOf;

function fail(path: readonly (string | number)[], why: string): never {
  // JSON.stringify escapes lone surrogates, so the pointer prints safely even when a key is the culprit.
  throw new WorldloopError('ERR_INPUTS', `not I-JSON at ${JSON.stringify(jsonPointer(path))}: ${why}`);
}

function checkString(s: string, path: readonly (string | number)[], what: 'string' | 'key'): void {
  const m = LONE_SURROGATE.exec(s);
  if (m) {
    const unit = m[0].charCodeAt(0).toString(16).toUpperCase();
    fail(path, `lone surrogate U+${unit} in ${what} at UTF-16 index ${m.index}`);
  }
}

/**
 * ECMAScript Number::toString, which RFC 8785 §3.2.2.3 adopts verbatim; String() implements it exactly
 * (and already prints −0 as "0").
 */
export function serializeNumber(n: number): string {
  if (!Number.isFinite(n)) throw new WorldloopError('ERR_INPUTS', `not I-JSON: ${String(n)} is not a finite number`);
  return String(n);
}

function serializeString(s: string): string {
  // JSON.stringify's QuoteJSONString is the escaping RFC 8785 §3.2.2.2 prescribes for well-formed
  // strings: \" \\ \b \f \n \r \t, other controls as lowercase \u00xx, everything else literal.
  return JSON.stringify(s);
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'bigint') return 'a bigint';
  if (typeof v === 'object' && v !== null) {
    const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return `an instance of ${name ?? 'an unknown class'}`;
  }
  return typeof v;
}

/** Canonical JSON text of a value per RFC 8785; throws ERR_INPUTS for anything that is not I-JSON. */
export function canonicalize(value: unknown): string {
  const path: (string | number)[] = [];
  const open = new Set<object>();
  const parts: string[] = [];

  const walk = (v: unknown): void => {
    if (v === null) {
      parts.push('null');
      return;
    }
    switch (typeof v) {
      case 'boolean':
        parts.push(v ? 'true' : 'false');
        return;
      case 'string':
        checkString(v, path, 'string');
        parts.push(serializeString(v));
        return;
      case 'number':
        if (!Number.isFinite(v)) fail(path, `${String(v)} is not a finite number`);
        parts.push(serializeNumber(v));
        return;
      case 'object':
        break;
      default:
        fail(path, `${describe(v)} is not JSON data`);
    }
    if (open.has(v)) fail(path, 'cycle: the value contains itself');
    if (Object.getOwnPropertySymbols(v).length > 0) fail(path, 'symbol-keyed properties are not JSON data');
    open.add(v);
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) fail(path, `${describe(v)} is not a plain array`);
      parts.push('[');
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        if (!(i in v)) fail(path, 'sparse array hole');
        if (i > 0) parts.push(',');
        walk(v[i]);
        path.pop();
      }
      parts.push(']');
    } else {
      if (!isPlainObject(v)) fail(path, `${describe(v)} is not a plain object`);
      const rec = v as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is exactly RFC 8785 §3.2.3.
      const keys = Object.keys(rec).sort();
      parts.push('{');
      keys.forEach((k, i) => {
        path.push(k);
        checkString(k, path, 'key');
        if (i > 0) parts.push(',');
        parts.push(serializeString(k), ':');
        walk(rec[k]);
        path.pop();
      });
      parts.push('}');
    }
    open.delete(v);
  };

  walk(value);
  return parts.join('');
}

/** UTF-8 bytes of the canonical form: what gets hashed. */
export function canonicalizeToBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}
