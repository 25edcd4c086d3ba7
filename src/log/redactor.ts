// The redaction layer of docs/architecture.md §9. Two sources of "must not appear": every secret value the resolver
// handed out (registered here), and credential shapes (patterns.ts). The logger applies `redactLine` to
// the exact line pino is about to write (see logger.ts), so nothing — message, bindings, nested fields,
// error stacks and causes, keys — reaches a stream without passing through here.
import { WorldloopError } from '../contracts/errors';
import { REDACTED, isSensitiveKey, redactCredentialPatterns } from './patterns';
import { encodedForms } from '../contracts/secret-forms';

/**
 * Registered values shorter than this (or inside the "[REDACTED]" marker) are refused: register throws
 * ERR_CONFIG_INVALID, so the resolver never hands them out. Below four characters a value is not a
 * credential, and matching it anywhere would erase every "a" or "1" in every log line; letting it
 * through unredacted would be a leak. Refusing is the only choice that is both safe and keeps logs
 * readable. From four characters up, a value is redacted wherever it occurs as a substring, including
 * inside words, keys and digests: a short secret costs readability, never safety.
 */
export const MIN_SECRET_LENGTH = 4;

export class Redactor {
  readonly #values = new Set<string>();
  /** Every textual form of every registered value, longest first so overlapping values redact fully. */
  #needles: readonly string[] = [];
  /**
   * One scan for "does any form occur at all", so the common line (no secret) costs one regex pass rather
   * than one substring search per form. Undefined until something is registered.
   */
  #anyNeedle: RegExp | undefined;

  /** The number of distinct values registered. */
  get size(): number {
    return this.#values.size;
  }

  /**
   * Remembers a secret value so that no later log record shows it, in any of the forms it can take in a
   * JSON line (raw, JSON-escaped once or twice, \u-escaped) or after something encoded it (base64 standard
   * and URL-safe at every byte offset, hex in either case, percent-encoding: see secret-forms.ts).
   *
   * @throws WorldloopError ERR_CONFIG_INVALID when the value is shorter than {@link MIN_SECRET_LENGTH}.
   */
  register(value: string): void {
    if (this.#values.has(value)) return;
    const length = [...value].length;
    if (length < MIN_SECRET_LENGTH) {
      throw new WorldloopError(
        'ERR_CONFIG_INVALID',
        `a secret value of ${length} character(s) is too short to keep out of logs; secrets must have at least ${MIN_SECRET_LENGTH} characters`,
      );
    }
    if (REDACTED.includes(value)) {
      // Every redaction would re-emit such a value ("DACT", "[RED"), so it cannot be kept out of logs.
      throw new WorldloopError('ERR_CONFIG_INVALID', `a secret value may not be part of the marker ${REDACTED}`);
    }
    this.#values.add(value);
    const needles = new Set(this.#needles);
    for (const form of textualForms(value)) {
      // Derived forms (the trimmed one) may be short or inside the marker; the raw form always counts.
      if (form.length >= MIN_SECRET_LENGTH && !REDACTED.includes(form)) needles.add(form);
    }
    this.#needles = [...needles].sort((a, b) => b.length - a.length);
    this.#anyNeedle = new RegExp(this.#needles.map(escapeRegExp).join('|'));
  }

  /** Removes every registered value and every credential pattern from one string. */
  redactString(text: string): string {
    let out = text;
    // Replacement stays one form at a time, longest first: a single alternation would take the leftmost
    // match, and a short form starting just before a long one would leave the long one's tail behind.
    if (this.#anyNeedle?.test(text)) {
      for (const needle of this.#needles) {
        if (out.includes(needle)) out = out.split(needle).join(REDACTED);
      }
    }
    return redactCredentialPatterns(out);
  }

  /** True when the text contains a registered value in any of its forms. */
  containsSecret(text: string): boolean {
    return this.#anyNeedle?.test(text) ?? false;
  }

  /**
   * A deep, redacted copy: strings and keys are redacted, fields with credential names are dropped,
   * numbers whose digits spell a secret become the marker, errors stay errors (same prototype, with
   * message, stack, cause and own fields redacted), objects with toJSON are copied as what they
   * serialise to, cycles are preserved.
   */
  redactValue<T>(value: T): T {
    return this.#copy(value, new WeakMap()) as T;
  }

  /**
   * Redacts one serialised JSON log line at the last moment before it is written. The line is decoded,
   * so values are matched as text whatever escaping the serialiser chose (\", \\, \uXXXX), then
   * re-encoded, so the output is always valid JSON. It is re-encoded even when nothing matched: pino
   * writes a child binding and a record field of the same name as two keys, JSON.parse keeps only the
   * last, and passing the original text through would emit the unchecked first one. A line that does not
   * parse is withheld (fail closed) rather than written half-checked.
   */
  redactLine(line: string): string {
    const newline = line.endsWith('\n') ? '\n' : '';
    const body = newline ? line.slice(0, -1) : line;
    let parsed: unknown;
    try {
      // Number tokens are checked on the text first: JSON.parse would round a long one (a BigInt), and
      // the rounded digits could still carry most of a numeric secret.
      parsed = JSON.parse(this.containsSecret(body) ? this.#redactNumberTokens(body) : body);
    } catch {
      return `${JSON.stringify({ level: 'error', msg: 'log record withheld: it could not be parsed for redaction' })}${newline}`;
    }
    return `${JSON.stringify(this.#redactJson(parsed))}${newline}`;
  }

  // Replaces bare number tokens (outside strings) that contain a registered value with the quoted marker.
  #redactNumberTokens(json: string): string {
    let out = '';
    let i = 0;
    while (i < json.length) {
      const ch = json[i]!;
      if (ch === '"') {
        let j = i + 1;
        while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
        out += json.slice(i, j + 1);
        i = j + 1;
      } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
        NUMBER_TOKEN.lastIndex = i;
        const token = NUMBER_TOKEN.exec(json)?.[0] ?? ch;
        out += this.containsSecret(token) ? JSON.stringify(REDACTED) : token;
        i += token.length;
      } else {
        out += ch;
        i += 1;
      }
    }
    return out;
  }

  #redactJson(value: unknown): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (typeof value === 'number') return this.containsSecret(String(value)) ? REDACTED : value;
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => this.#redactJson(item));
    const record = value as Record<string, unknown>;
    if (isSerialisedBuffer(record) && this.containsSecret(Buffer.from(record.data).toString('latin1'))) return REDACTED;
    // fromEntries defines properties, so a "__proto__" key from the line stays a plain key.
    return Object.fromEntries(
      Object.entries(record).map(([key, item]) => [
        this.redactString(key),
        isSensitiveKey(key) && item !== null && typeof item !== 'boolean' ? REDACTED : this.#redactJson(item),
      ]),
    );
  }

  #copy(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (typeof value === 'number' || typeof value === 'bigint') {
      return this.containsSecret(String(value)) ? REDACTED : value;
    }
    if (value === null || typeof value !== 'object') return value;
    const already = seen.get(value);
    if (already !== undefined) return already;

    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const item of value) out.push(this.#copy(item, seen));
      return out;
    }
    if (value instanceof Error) return this.#copyError(value, seen);
    if (ArrayBuffer.isView(value)) {
      const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      return this.containsSecret(bytes.toString('latin1')) || this.containsSecret(bytes.toString('utf8'))
        ? REDACTED
        : Buffer.from(bytes);
    }
    if (value instanceof Map) {
      const out = new Map<unknown, unknown>();
      seen.set(value, out);
      for (const [k, v] of value) out.set(this.#copy(k, seen), this.#copy(v, seen));
      return out;
    }
    if (value instanceof Set) {
      const out = new Set<unknown>();
      seen.set(value, out);
      for (const item of value) out.add(this.#copy(item, seen));
      return out;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return this.#copy(toJSON.call(value), seen);

    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, this.redactString(key), {
        value: isSensitiveKey(key) && item !== null && typeof item !== 'boolean' ? REDACTED : this.#copy(item, seen),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  #copyError(error: Error, seen: WeakMap<object, unknown>): Error {
    const out = Object.create(Object.getPrototypeOf(error) as object | null) as Error;
    seen.set(error, out);
    // Own properties include the non-enumerable message, stack and cause; keep their enumerability so
    // the copy serialises exactly like the original would.
    for (const key of Reflect.ownKeys(error)) {
      const descriptor = Object.getOwnPropertyDescriptor(error, key)!;
      const name = typeof key === 'string' ? this.redactString(key) : key;
      if ('value' in descriptor) {
        const item: unknown = descriptor.value;
        descriptor.value =
          typeof key === 'string' && isSensitiveKey(key) && item !== null && typeof item !== 'boolean'
            ? REDACTED
            : this.#copy(item, seen);
      } else {
        // An accessor could compute anything; its value is copied once, redacted, as plain data.
        const item: unknown = descriptor.get?.call(error);
        Object.defineProperty(out, name, {
          value: this.#copy(item, seen),
          enumerable: descriptor.enumerable ?? false,
          writable: true,
          configurable: true,
        });
        continue;
      }
      Object.defineProperty(out, name, descriptor);
    }
    return out;
  }
}

const NUMBER_TOKEN = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** The process-wide redactor: the secret resolver registers into it unless given another one. */
export const defaultRedactor = new Redactor();

function isSerialisedBuffer(record: Record<string, unknown>): record is { type: 'Buffer'; data: number[] } {
  return (
    record.type === 'Buffer' &&
    Array.isArray(record.data) &&
    record.data.every((byte) => Number.isInteger(byte) && (byte as number) >= 0 && (byte as number) <= 255)
  );
}

// The forms a value takes when it is written into, or nested inside, JSON, and when it was encoded. A
// message that embeds JSON.stringify(secret) carries the once-escaped form after the line is decoded, and
// so on; encoded forms are ASCII without quotes or backslashes, so JSON never changes them further.
function textualForms(value: string): string[] {
  const forms = [value];
  const trimmed = value.trim();
  if (trimmed !== value) forms.push(trimmed, ...encodedForms(trimmed));
  const once = JSON.stringify(value).slice(1, -1);
  forms.push(once, JSON.stringify(once).slice(1, -1), asciiEscape(once));
  forms.push(...encodedForms(value));
  return forms;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function asciiEscape(escaped: string): string {
  return escaped.replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
