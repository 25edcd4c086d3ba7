// The redaction layer on its own: credential patterns (and what they must leave alone), registered values
// in every textual form, deep copies, and the line-level pass the logger runs on every record.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import {
  CREDENTIAL_PATTERNS,
  MIN_SECRET_LENGTH,
  REDACTED,
  Redactor,
  createLogger,
  isSensitiveKey,
  redactCredentialPatterns,
} from '../../src/log';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('credential patterns', () => {
  it.each([
    ['Bearer token', 'curl -H "x" Bearer abc.DEF-123_~+/xyz==', 'abc.DEF-123'],
    ['lower-case bearer', 'auth=ok; bearer ZZZtoken987', 'ZZZtoken987'],
    ['sk- key', 'using sk-proj-AbCdEfGhIjKlMnOpQrStUv012345 now', 'AbCdEfGhIjKlMnOp'],
    ['bare sk- key', 'key sk-0123456789abcdefABCDEF', '0123456789abcdef'],
    ['URL user:pass', 'fetch https://alice:hunter2@example.com/path', 'hunter2'],
    ['URL user-info user', 'fetch https://alice:hunter2@example.com/path', 'alice'],
    ['URL token user-info', 'git clone https://ghtoken123456@github.com/o/r.git', 'ghtoken123456'],
    ['postgres URL', 'db postgres://u:pw0rdXYZ@db:5432/x', 'pw0rdXYZ'],
    ['password= in query', 'https://h/x?user=a&password=p4ssW0rd&x=1', 'p4ssW0rd'],
    ['token= in query', 'https://h/cb?token=tok3nValue&state=1', 'tok3nValue'],
    ['access_token=', 'GET /x?access_token=AT-998877', 'AT-998877'],
    ['api_key=', 'https://h/v1?api_key=AKEYVALUE1', 'AKEYVALUE1'],
    ['apikey=', 'apikey=plainTEXTkey', 'plainTEXTkey'],
    ['api-key=', 'api-key=dashKEY42', 'dashKEY42'],
    ['client_secret=', 'client_secret=cs_value_1&grant=x', 'cs_value_1'],
    ['password: in text', 'login failed, password: s3cr3tpw', 's3cr3tpw'],
    ['JSON text', '{"password":"jsonPW123","user":"a"}', 'jsonPW123'],
    ['Authorization header', 'Authorization: Basic dXNlcjpwYXNz', 'dXNlcjpwYXNz'],
    ['Authorization Digest', 'authorization: Digest username="u", response="r3sp0nse"', 'r3sp0nse'],
    ['Proxy-Authorization', 'Proxy-Authorization: Negotiate YIIneg0t1ate', 'YIIneg0t1ate'],
    ['Authorization as JSON text', '{"authorization":"Token ttt-777"}', 'ttt-777'],
    ['GitHub token', `ghp_${'a1B2'.repeat(9)}`, 'a1B2a1B2'],
    ['AWS key id', 'AKIAABCDEFGHIJKLMNOP', 'ABCDEFGHIJKLMNOP'],
    ['JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'eyJzdWIiOiIxIn0'],
  ])('%s', (_name, text, secret) => {
    const out = redactCredentialPatterns(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it.each([
    ['an image digest', `ghcr.io/acme/x@sha256:${'0123456789abcdef'.repeat(4)}`],
    ['a BLAKE3 hex digest', `blake3:${'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'}`],
    ['a bare 64-hex hash', 'inputs_hash=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['an execution id', 'run/01936f8e-7c2a-7d4e-9b1a-0c2d3e4f5a6b'],
    ['token usage', 'prompt_tokens=12 completion_tokens=40 max_tokens: 512'],
    ['a secret name', 'missing: OPENAI_API_KEY'],
    ['a world path', 'world://artifacts/demo/outputs/report.json'],
    ['a URL without user-info', 'https://example.com/a?b=c&d=e'],
    ['prose', 'the sk-learn pipeline and a basic token count'],
  ])('leaves %s readable', (_name, text) => {
    expect(redactCredentialPatterns(text)).toBe(text);
  });

  it('every pattern is global (replaces every occurrence, not only the first)', () => {
    for (const { name, pattern } of CREDENTIAL_PATTERNS) expect(pattern.flags, name).toContain('g');
    expect(redactCredentialPatterns('Bearer aaaa1 and Bearer bbbb2')).toBe(`Bearer ${REDACTED} and Bearer ${REDACTED}`);
  });

  it('names credential-carrying fields, not counters or secret names', () => {
    for (const key of [
      'password',
      'apiKey',
      'api_key',
      'OPENAI_API_KEY',
      'accessToken',
      'client-secret',
      'Authorization',
      'set-cookie',
      'credentials',
    ]) {
      expect(isSensitiveKey(key), key).toBe(true);
    }
    for (const key of [
      'max_tokens',
      'prompt_tokens',
      'secret_name',
      'secret_names',
      'secretsDir',
      'inputs_hash',
      'digest',
    ]) {
      expect(isSensitiveKey(key), key).toBe(false);
    }
  });
});

describe('Redactor', () => {
  it('redacts a registered value wherever it occurs in a string', () => {
    const r = new Redactor();
    const secret = `v-${hex(8)}`;
    r.register(secret);
    expect(r.redactString(`a${secret}b ${secret}`)).toBe(`a${REDACTED}b ${REDACTED}`);
    expect(r.containsSecret(`x${secret}`)).toBe(true);
  });

  it('catches the escaped forms a value takes inside JSON text and URLs', () => {
    const r = new Redactor();
    const secret = `q"b\\s/ü☃\u2028${hex(6)}`;
    r.register(secret);
    const once = JSON.stringify(secret).slice(1, -1);
    const ascii = once.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    for (const form of [secret, once, JSON.stringify(once).slice(1, -1), ascii, encodeURIComponent(secret)]) {
      expect(r.redactString(`<${form}>`), form).toBe(`<${REDACTED}>`);
    }
  });

  it(`refuses values shorter than ${MIN_SECRET_LENGTH} characters instead of erasing every letter`, () => {
    const r = new Redactor();
    for (const tiny of ['', 'Q', 'QZ', 'QZX', '☃☃☃']) {
      expect(() => r.register(tiny), JSON.stringify(tiny)).toThrow(WorldloopError);
      try {
        r.register(tiny);
      } catch (e) {
        expect((e as WorldloopError).code).toBe('ERR_CONFIG_INVALID');
        if (tiny !== '') expect((e as WorldloopError).message).not.toContain(tiny);
      }
    }
    expect(r.size).toBe(0);
    expect(r.redactString('a banana and a cab')).toBe('a banana and a cab');
    // A value inside the marker could never be hidden by it.
    expect(() => r.register('DACT')).toThrow(/part of the marker/);
    r.register('abcd');
    expect(r.redactString('xabcdx')).toBe(`x${REDACTED}x`);
  });

  it('redacts overlapping values completely (longest first)', () => {
    const r = new Redactor();
    const base = hex(6);
    r.register(base);
    r.register(`${base}-longer-${hex(4)}`);
    const line = r.redactString(`${base}-longer-zzzz / ${base}`);
    expect(line).not.toContain(base);
  });

  it('redactValue makes a deep redacted copy and leaves the original alone', () => {
    const r = new Redactor();
    const secret = `deep-${hex(8)}`;
    r.register(secret);
    const cause = new Error(`cause ${secret}`);
    const error = Object.assign(new TypeError(`outer ${secret}`, { cause }), { detail: secret });
    const original = {
      msg: secret,
      list: [1, secret, { [secret]: true }],
      nested: { password: 'not-registered-pw', n: 7, ok: true, none: null },
      error,
      when: new Date(0),
      bytes: Buffer.from(secret),
      map: new Map([[secret, secret]]),
    };
    const cyclic: Record<string, unknown> = { secret };
    cyclic.self = cyclic;
    const copy = r.redactValue({ ...original, cyclic });

    const { cyclic: copiedCycle, ...acyclic } = copy;
    const text = JSON.stringify(acyclic) + JSON.stringify([...copy.map]) + String(copy.error.stack);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('not-registered-pw');
    expect(copiedCycle.secret).toBe(REDACTED);
    expect(copy.list[0]).toBe(1);
    expect(copy.nested.ok).toBe(true);
    expect(copy.nested.none).toBeNull();
    expect(copy.when).toBe('1970-01-01T00:00:00.000Z');
    expect(copy.bytes).toBe(REDACTED);
    expect([...copy.map.entries()]).toEqual([[REDACTED, REDACTED]]);
    expect((copy.cyclic as Record<string, unknown>).self).toBe(copy.cyclic);

    expect(copy.error).toBeInstanceOf(TypeError);
    expect(copy.error.message).toBe(`outer ${REDACTED}`);
    expect(copy.error.stack).not.toContain(secret);
    expect(copy.error.stack).toContain('outer');
    expect((copy.error.cause as Error).message).toBe(`cause ${REDACTED}`);
    expect((copy.error as unknown as { detail: string }).detail).toBe(REDACTED);
    expect(Object.keys(copy.error)).toEqual(Object.keys(error));

    // The original is untouched.
    expect(original.msg).toBe(secret);
    expect(error.message).toContain(secret);
    expect(cause.message).toContain(secret);
  });

  it('redactLine decodes, redacts keys and values, and re-encodes valid JSON', () => {
    const r = new Redactor();
    const secret = `line"\\${hex(6)}`;
    r.register(secret);
    const numeric = String(10_000_000 + Math.floor(Math.random() * 80_000_000));
    r.register(numeric);
    const record = { [secret]: 1, msg: `m ${secret}`, a: [secret, Number(numeric)], __proto__x: 1, token: 'abc' };
    const out = r.redactLine(`${JSON.stringify(record)}\n`);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(2);
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed).toEqual({
      [REDACTED]: 1,
      msg: `m ${REDACTED}`,
      a: [REDACTED, REDACTED],
      __proto__x: 1,
      token: REDACTED,
    });
    expect(out).not.toContain(numeric);
  });

  it('keeps a "__proto__" key from a line as data, not as a prototype', () => {
    const out = new Redactor().redactLine('{"__proto__":{"polluted":1},"msg":"x"}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(out).toBe('{"__proto__":{"polluted":1},"msg":"x"}');
  });

  it('withholds a line it cannot parse (fails closed) instead of writing it unchecked', () => {
    const r = new Redactor();
    const secret = `broken-${hex(6)}`;
    r.register(secret);
    const out = r.redactLine(`{"msg":"${secret}"\n`);
    expect(out).not.toContain(secret);
    expect(JSON.parse(out)).toMatchObject({ msg: expect.stringContaining('withheld') });
  });
});

describe('property: any registered value stays out of the bytes pino writes', () => {
  it('holds for arbitrary Unicode (quotes, backslashes, controls, lone surrogates) in message, key and nested value', () => {
    // A fixed prefix that JSON structure never contains, so a hit can only be a leak, not a coincidence
    // such as a value of `","m` matching the separator between two fields.
    const secretArb = fc.string({ unit: 'binary', minLength: 2, maxLength: 40 }).map((s) => `Zq${s}`);
    fc.assert(
      fc.property(
        secretArb,
        fc.string({ maxLength: 10 }).filter((f) => !f.includes('Z')),
        (secret, filler) => {
          const chunks: Buffer[] = [];
          const destination = new Writable({
            write(chunk: Buffer | string, _enc, done) {
              chunks.push(Buffer.from(chunk));
              done();
            },
          });
          const redactor = new Redactor();
          redactor.register(secret);
          const logger = createLogger({ redactor, destination });
          logger.info({ [secret]: filler, nested: [{ v: `${filler}${secret}${filler}` }] }, `${filler}${secret}`);
          logger.error(new Error(`${secret}${filler}`, { cause: new Error(secret) }));
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          for (const line of text.trimEnd().split('\n')) JSON.parse(line);
          const once = JSON.stringify(secret).slice(1, -1);
          return !bytes.includes(Buffer.from(secret)) && !bytes.includes(Buffer.from(once)) && !text.includes('Zq');
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
