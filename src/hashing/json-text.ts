// A strict JSON reader for text we are about to hash. JSON.parse is not enough: it keeps the last of
// duplicate member names silently (I-JSON forbids duplicates, and a hash over a silently dropped member
// would lie about what was submitted), it rounds number literals to doubles without a word (two different
// literals would share a hash), and it gives no JSON Pointer for errors.
import { WorldloopError } from '../contracts/errors';
import { MAX_INPUTS_DEPTH as MAX_DEPTH } from '../contracts/inputs-limits';
import { jsonPointer } from './jcs';
import { JSON_NUMBER, JSON_STRING, JSON_WS } from './json-tokens';
import { exactNumberForm } from './number-literal';

export interface ParseJsonOptions {
  /**
   * `exact` (default): a number literal whose RFC 8785 form would denote another decimal value is
   * ERR_INPUTS with its JSON pointer (ADR 0010), so nothing hashed was silently rounded. `double`: plain
   * JSON, every literal read as the nearest double (`hash jcs --allow-large-numbers`, not for hashing).
   */
  readonly numbers?: 'exact' | 'double';
}

const [WS, NUMBER, STRING] = [JSON_WS, JSON_NUMBER, JSON_STRING];

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line} column ${pos - before.lastIndexOf('\n')}`;
}

/**
 * Parses JSON text (RFC 8259) strictly: duplicate member names, trailing garbage and (by default) number
 * literals a double cannot hold exactly are ERR_INPUTS.
 */
export function parseJsonText(input: string, options: ParseJsonOptions = {}): unknown {
  const exact = options.numbers !== 'double';
  // RFC 8259 §8.1 lets a parser ignore a byte order mark; editors on some systems add one.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  let pos = 0;
  const path: (string | number)[] = [];

  const bad = (why: string): never => {
    throw new WorldloopError('ERR_INPUTS', `invalid JSON at ${lineCol(text, pos)}: ${why}`);
  };
  const skip = (): void => {
    WS.lastIndex = pos;
    WS.exec(text);
    pos = WS.lastIndex;
  };
  const token = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    pos = re.lastIndex;
    return m[0];
  };
  const literal = (word: string, v: unknown): unknown => {
    if (text.startsWith(word, pos)) {
      pos += word.length;
      return v;
    }
    return bad(`unexpected ${JSON.stringify(text.slice(pos, pos + 12))}`);
  };

  const value = (): unknown => {
    skip();
    if (path.length > MAX_DEPTH) bad(`nesting deeper than ${MAX_DEPTH}`);
    const c = text[pos];
    switch (c) {
      case '{': {
        pos++;
        const obj: Record<string, unknown> = {};
        skip();
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        for (;;) {
          skip();
          const raw = token(STRING);
          if (raw === undefined) bad('expected a member name in double quotes');
          const key = JSON.parse(raw!) as string;
          if (Object.prototype.hasOwnProperty.call(obj, key)) {
            bad(`duplicate member name ${JSON.stringify(key)} in object at ${JSON.stringify(jsonPointer(path))}`);
          }
          skip();
          if (text[pos] !== ':') bad('expected ":"');
          pos++;
          path.push(key);
          // defineProperty, not assignment, so a member named "__proto__" stays data.
          Object.defineProperty(obj, key, { value: value(), enumerable: true, writable: true, configurable: true });
          path.pop();
          skip();
          if (text[pos] === ',') {
            pos++;
            continue;
          }
          if (text[pos] === '}') {
            pos++;
            return obj;
          }
          bad('expected "," or "}"');
        }
      }
      case '[': {
        pos++;
        const arr: unknown[] = [];
        skip();
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        for (;;) {
          path.push(arr.length);
          arr.push(value());
          path.pop();
          skip();
          if (text[pos] === ',') {
            pos++;
            continue;
          }
          if (text[pos] === ']') {
            pos++;
            return arr;
          }
          bad('expected "," or "]"');
        }
      }
      case '"': {
        const raw = token(STRING);
        if (raw === undefined) bad('malformed string (unescaped control character, bad escape or no closing quote)');
        return JSON.parse(raw!) as string;
      }
      case 't':
        return literal('true', true);
      case 'f':
        return literal('false', false);
      case 'n':
        return literal('null', null);
      case undefined:
        return bad('unexpected end of input');
      default: {
        const num = token(NUMBER);
        if (num === undefined) bad(`unexpected ${JSON.stringify(c)}`);
        if (exact) {
          const form = exactNumberForm(num!);
          if (!form.ok) {
            throw new WorldloopError(
              'ERR_INPUTS',
              `inexact number at ${JSON.stringify(jsonPointer(path))}: ${form.why}; send it as a string`,
            );
          }
        }
        return Number(num);
      }
    }
  };

  const result = value();
  skip();
  if (pos < text.length) bad('unexpected text after the JSON value');
  return result;
}

/** Decodes UTF-8 strictly (invalid bytes are ERR_INPUTS, never U+FFFD) and parses as parseJsonText does. */
export function parseJsonBytes(bytes: Uint8Array, options: ParseJsonOptions = {}): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new WorldloopError('ERR_INPUTS', 'invalid JSON: the bytes are not valid UTF-8');
  }
  return parseJsonText(text, options);
}
