// Registered secrets are redacted in encoded form too (issue 13 item 4): base64 in both alphabets, with
// and without padding, embedded at every byte offset of a longer stream; hex in both cases; percent-
// encoding. Each case is checked by decoding what is left (helpers/secret-leaks.ts), not by comparing
// with the redactor's own list of spellings.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../src/log';
import { encodedForms } from '../../src/contracts/secret-forms';
import { KitLogger } from '../../src/processor-kit/log';
import { secretLeaks } from './helpers/secret-leaks';

const SECRETS = [
  `sk-test-${randomBytes(12).toString('base64url')}`,
  // Bytes whose base64 uses + and / (so the URL-safe alphabet differs), and non-ASCII UTF-8.
  `k\u00ff\u00fe?>~ü☃${randomBytes(4).toString('hex')}`,
  // Short (the minimum length) and with a space and characters form-encoding treats specially.
  'a b~',
];

function redactorFor(secret: string): Redactor {
  const r = new Redactor();
  r.register(secret);
  return r;
}

function expectRedacted(r: Redactor, text: string, secret: string): void {
  expect(secretLeaks(text, secret), `the test's own text carries ${JSON.stringify(secret)}`).not.toEqual([]);
  const out = r.redactString(text);
  expect(out).toContain(REDACTED);
  expect(secretLeaks(out, secret), out).toEqual([]);
}

describe.each(SECRETS)('secret %j', (secret) => {
  const bytes = Buffer.from(secret, 'utf8');

  it('base64 and base64url, padded and not, at byte offsets 0, 1 and 2 (and 3–5) of a longer stream', () => {
    const r = redactorFor(secret);
    for (let before = 0; before < 6; before++) {
      for (let after = 0; after < 4; after++) {
        const stream = Buffer.concat([randomBytes(before), bytes, randomBytes(after)]);
        const standard = stream.toString('base64');
        const urlSafe = stream.toString('base64url');
        for (const encoded of [
          standard,
          standard.replace(/=+$/, ''),
          urlSafe,
          `${urlSafe}==`.slice(0, standard.length),
        ]) {
          expectRedacted(r, `{"error":{"message":"bad key ${encoded}"}}`, secret);
        }
      }
    }
  });

  it('base64 of the secret alone goes entirely, padding included', () => {
    const r = redactorFor(secret);
    for (const encoded of [bytes.toString('base64'), bytes.toString('base64url')]) {
      expect(r.redactString(`<${encoded}>`)).toBe(`<${REDACTED}>`);
    }
  });

  it('hex, lower and upper case, alone and inside a longer hex dump', () => {
    const r = redactorFor(secret);
    const hex = bytes.toString('hex');
    for (const dump of [hex, hex.toUpperCase()]) {
      expect(r.redactString(`<${dump}>`)).toBe(`<${REDACTED}>`);
      const longer = `${randomBytes(3).toString('hex')}${dump}${randomBytes(2).toString('hex')}`;
      expectRedacted(r, `0x${dump === hex ? longer : longer.toUpperCase()}`, secret);
    }
  });

  it('percent-encoding: encodeURIComponent, form encoding, every byte escaped in either case', () => {
    const r = redactorFor(secret);
    const everyByte = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    const forms = [
      encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
      new URLSearchParams({ k: secret }).toString().slice(2),
      everyByte,
      everyByte.toUpperCase(),
    ];
    for (const form of forms) expectRedacted(r, `https://h/cb?key=${form}&x=1`, secret);
  });

  it('redactLine removes every encoding from a serialised log record', () => {
    const r = redactorFor(secret);
    const body = JSON.stringify({
      error: {
        b64: Buffer.concat([Buffer.from('user:'), bytes]).toString('base64'),
        hex: bytes.toString('hex').toUpperCase(),
        pct: encodeURIComponent(secret),
      },
    });
    const line = `${JSON.stringify({ level: 'error', msg: `provider said ${body}`, err: { stack: body } })}\n`;
    const out = r.redactLine(line);
    expect(secretLeaks(JSON.parse(out).msg as string, secret)).toEqual([]);
    expect(secretLeaks(out, secret)).toEqual([]);
  });

  it('the processor kit logger removes the same encodings from its lines', () => {
    let raw = '';
    const log = new KitLogger((l) => (raw += l), { processor_ref: 'a/b@1', version: '1' });
    log.addSecret(secret);
    const stream = Buffer.concat([Buffer.from('xy'), bytes, Buffer.from('z')]);
    log.lifecycle('execution.fail', {
      message: `HTTP 401 ${stream.toString('base64')} ${stream.toString('base64url')} ${bytes.toString('hex')} ${encodeURIComponent(secret)}`,
    });
    expect(secretLeaks(raw, secret)).toEqual([]);
  });
});

describe('encodedForms', () => {
  it('lists no form twice and never the value itself', () => {
    const forms = encodedForms('abcd');
    expect(new Set(forms).size).toBe(forms.length);
    expect(forms).not.toContain('abcd');
    expect(forms).toEqual(expect.arrayContaining(['YWJjZA==', 'YWJjZA', '61626364', '61626364'.toUpperCase()]));
  });

  it('leaves text alone that carries no encoding of the secret', () => {
    const r = redactorFor('sk-unrelated-0123456789');
    const text = `image sha256:${'ab'.repeat(32)} ${Buffer.from('something else entirely').toString('base64')} %41%42`;
    expect(r.redactString(text)).toBe(text);
  });
});
