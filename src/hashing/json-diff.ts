// Where two JSON values differ, as JSON pointers (RFC 6901): what `worldloop explain` prints when two runs'
// inputs hashes differ. Scalars are compared by their RFC 8785 form, so `4.5` and `4.50` — one value, one
// hash — are not a difference, exactly as the inputs hash sees them.
import { canonicalize, jsonPointer } from './jcs';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * The pointers of the outermost places where `a` and `b` differ, in document order, at most `limit` of them
 * (a member or element present on one side only is a difference at its own pointer).
 */
export function jsonDifferences(a: unknown, b: unknown, limit = 100): string[] {
  const out: string[] = [];
  // An explicit stack keeps hostile depth off the call stack; entries are visited in document order.
  const stack: { a: unknown; b: unknown; path: (string | number)[] }[] = [{ a, b, path: [] }];
  while (stack.length > 0 && out.length < limit) {
    const top = stack.pop()!;
    const [x, y] = [top.a as Json | undefined, top.b as Json | undefined];
    const kind = kindOf(x);
    if (x === undefined || y === undefined || kind !== kindOf(y)) {
      out.push(jsonPointer(top.path));
      continue;
    }
    if (kind === 'array') {
      const [xs, ys] = [x as Json[], y as Json[]];
      for (let i = Math.max(xs.length, ys.length) - 1; i >= 0; i--) {
        stack.push({ a: xs[i], b: ys[i], path: [...top.path, i] });
      }
    } else if (kind === 'object') {
      const [xo, yo] = [x as Record<string, Json>, y as Record<string, Json>];
      const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
      const keys = [...new Set([...Object.keys(xo), ...Object.keys(yo)])].sort().reverse();
      for (const k of keys) {
        stack.push({ a: own(xo, k) ? xo[k] : undefined, b: own(yo, k) ? yo[k] : undefined, path: [...top.path, k] });
      }
    } else if (canonicalize(x) !== canonicalize(y)) out.push(jsonPointer(top.path));
  }
  return out;
}
