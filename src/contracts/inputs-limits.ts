// The limits every processor `inputs` object must respect, wherever it is checked: the CLI before it
// touches Temporal or creates anything, and the inputs hash (so Admit on the worker and the processor kit
// in the container refuse exactly the same objects). Pure and dependency-free, so workflows may import it.
//
// Why these numbers: inputs travel inside Temporal payloads (the workflow start and every phase's
// activity input), whose default blob limit is 2 MiB; 1 MiB of JSON leaves room for the rest of the
// request. The depth bound keeps every recursive step (canonical JSON, schema validation, the payload
// converter) far from the JavaScript stack limit. Big data belongs in the world, not in the inputs.
import { WorldloopError } from './errors';

/** Deepest nesting accepted: no value more than this many members/elements below the root object. */
export const MAX_INPUTS_DEPTH = 512;
/** Largest inputs accepted, in UTF-8 bytes of their compact JSON form (what a Temporal payload carries). */
export const MAX_INPUTS_BYTES = 1024 * 1024;
/**
 * Largest inputs *text* (a file or an argument) read before parsing: whitespace and escapes may make the
 * text bigger than its compact form, but never without bound — endless input (a pipe, /dev/zero) stops here.
 */
export const MAX_INPUTS_TEXT_BYTES = 4 * MAX_INPUTS_BYTES;

/**
 * A member named `__proto__` is an own data property after JSON.parse but vanishes (or becomes a
 * prototype) under plain assignment, object spreads into fresh objects and zod records, so the hash, the
 * schema check and the processor would each see a different object. Refused everywhere (ADR 0006).
 */
export const FORBIDDEN_MEMBER_NAMES: readonly string[] = ['__proto__'];

export const BIG_DATA_HINT =
  'keep inputs small: put large data in the world (world://artifacts/…) or a file and pass its path as an input';

/** JSON pointer (RFC 6901) of a path; '' is the root. */
export function jsonPointerOf(path: readonly (string | number)[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Checks that `inputs` is a plain JSON object within {@link MAX_INPUTS_DEPTH} and
 * {@link MAX_INPUTS_BYTES}, with no member named `__proto__` at any depth. Iterative, so a hostile depth
 * cannot overflow the stack before it is refused.
 *
 * @throws WorldloopError ERR_INPUTS naming the JSON pointer of the first offending place.
 */
export function checkInputsLimits(inputs: unknown): void {
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    const got = inputs === null ? 'null' : Array.isArray(inputs) ? 'an array' : typeof inputs;
    throw new WorldloopError('ERR_INPUTS', `inputs must be a JSON object, got ${got}`);
  }
  // Depth counts as the strict JSON reader does (src/hashing/json-text.ts): a value — scalar or not —
  // more than MAX_INPUTS_DEPTH members/elements below the root is refused.
  const stack: { value: object; path: (string | number)[] }[] = [{ value: inputs, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && FORBIDDEN_MEMBER_NAMES.includes(key)) {
        throw new WorldloopError(
          'ERR_INPUTS',
          `member name ${JSON.stringify(key)} at ${jsonPointerOf(path) || '(root)'} is not accepted in inputs: rename it`,
        );
      }
      if (path.length + 1 > MAX_INPUTS_DEPTH) {
        throw new WorldloopError(
          'ERR_INPUTS',
          `inputs nest deeper than ${MAX_INPUTS_DEPTH} levels (at ${jsonPointerOf(path.slice(0, 8))}…); ${BIG_DATA_HINT}`,
        );
      }
      if (typeof child === 'object' && child !== null) stack.push({ value: child, path: [...path, key] });
    }
  }
  const bytes = utf8Length(JSON.stringify(inputs));
  if (bytes > MAX_INPUTS_BYTES) {
    throw new WorldloopError(
      'ERR_INPUTS',
      `inputs are ${bytes} bytes of JSON, more than the ${MAX_INPUTS_BYTES} accepted; ${BIG_DATA_HINT}`,
    );
  }
}

/** UTF-8 length of a JavaScript string without allocating its bytes (lone surrogates count as U+FFFD). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
