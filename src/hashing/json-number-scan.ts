// Finds the first thing in JSON text that would make a hash over its parsed value lie about the text: a
// number literal a double cannot hold exactly (ADR 0010) or a duplicate member name (I-JSON). It is the
// check for JSON that arrives as text we do not parse ourselves — Temporal payloads, which the SDK reads
// with JSON.parse (src/temporal/exact-numbers-codec.ts). Iterative with an explicit stack, so a payload of
// any depth is scanned without recursion; malformed JSON is not its business (the real parser reports it).
import { jsonPointer } from './jcs';
import { JSON_NUMBER, JSON_STRING, JSON_WS } from './json-tokens';
import { exactNumberForm } from './number-literal';

const [WS, NUMBER, STRING] = [JSON_WS, JSON_NUMBER, JSON_STRING];
const LITERAL = /true|false|null/y;

interface Frame {
  readonly kind: 'object' | 'array';
  /** The member name or element index of the value being read. */
  at: string | number;
  readonly names?: Set<string>;
}

/** A description of the first inexact number or duplicate name with its JSON pointer, or undefined. */
export function findHashUnsafeJson(text: string): string | undefined {
  const stack: Frame[] = [];
  let pos = 0;
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    pos = re.lastIndex;
    return m[0];
  };
  const skip = () => void match(WS);
  const pointer = () => JSON.stringify(jsonPointer(stack.map((f) => f.at)));

  for (;;) {
    // Read one value (opening a container counts as reading its start).
    skip();
    const c = text[pos];
    if (c === '{' || c === '[') {
      pos++;
      skip();
      const kind = c === '{' ? 'object' : 'array';
      if (text[pos] === (kind === 'object' ? '}' : ']')) pos++;
      else {
        const frame: Frame = kind === 'object' ? { kind, at: '', names: new Set() } : { kind, at: 0 };
        stack.push(frame);
        if (kind === 'object') {
          const problem = readName(frame);
          if (problem !== undefined) return problem === '' ? undefined : problem;
        }
        continue;
      }
    } else if (c === '"') {
      if (match(STRING) === undefined) return undefined;
    } else if (match(LITERAL) === undefined) {
      const literal = match(NUMBER);
      if (literal === undefined) return undefined;
      const form = exactNumberForm(literal);
      if (!form.ok) return `inexact number at ${pointer()}: ${form.why}; send it as a string`;
    }
    // Close every container this value completed, then move to the next member or element.
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) {
        skip();
        return undefined;
      }
      skip();
      if (text[pos] === ',') {
        pos++;
        if (top.kind === 'array') top.at = (top.at as number) + 1;
        else {
          const problem = readName(top);
          if (problem !== undefined) return problem === '' ? undefined : problem;
        }
        break;
      }
      if (text[pos] !== (top.kind === 'object' ? '}' : ']')) return undefined;
      pos++;
      stack.pop();
    }
  }

  /** Reads `"name":`; '' for malformed text, a message for a duplicate, undefined when fine. */
  function readName(frame: Frame): string | undefined {
    skip();
    const raw = match(STRING);
    if (raw === undefined) return '';
    const name = JSON.parse(raw) as string;
    if (frame.names!.has(name)) {
      frame.at = name;
      return `duplicate member name ${JSON.stringify(name)} at ${pointer()}`;
    }
    frame.names!.add(name);
    frame.at = name;
    skip();
    if (text[pos] !== ':') return '';
    pos++;
    return undefined;
  }
}
