// An independent leak finder for redaction tests: instead of listing the spellings the redactor knows, it
// decodes what is left. Any run of base64 (either alphabet) is decoded at all four character alignments,
// any run of hex at both nibble alignments, and any percent-escapes are decoded; the text leaks when the
// secret's bytes turn up in the text itself or in any of those decodings.

const BASE64_RUN = /[A-Za-z0-9+/_-]{4,}={0,2}/g;
const HEX_RUN = /[0-9A-Fa-f]{8,}/g;

function decodedBase64(run: string): Buffer[] {
  const standard = run.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const out: Buffer[] = [];
  for (let shift = 0; shift < 4; shift++) {
    const body = standard.slice(shift);
    // Drop a trailing single character: it cannot encode a whole byte.
    const usable = body.slice(0, body.length - (body.length % 4 === 1 ? 1 : 0));
    if (usable.length >= 2) out.push(Buffer.from(usable, 'base64'));
  }
  return out;
}

function decodedHex(run: string): Buffer[] {
  return [0, 1].map((shift) => {
    const body = run.slice(shift);
    return Buffer.from(body.slice(0, body.length - (body.length % 2)), 'hex');
  });
}

function decodedPercent(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const escape = /^%[0-9A-Fa-f]{2}/.exec(text.slice(i, i + 3));
    if (escape) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i] === '+' ? ' ' : text[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** The encodings in which `secret` can still be read back from `text` (empty when none). */
export function secretLeaks(text: string, secret: string): string[] {
  const needle = Buffer.from(secret, 'utf8');
  const leaks: string[] = [];
  if (text.includes(secret)) leaks.push('raw');
  for (const run of text.match(BASE64_RUN) ?? []) {
    if (decodedBase64(run).some((b) => b.includes(needle))) leaks.push(`base64 ${run.slice(0, 80)}`);
  }
  for (const run of text.match(HEX_RUN) ?? []) {
    if (decodedHex(run).some((b) => b.includes(needle))) leaks.push(`hex ${run.slice(0, 80)}`);
  }
  if (text.includes('%') && decodedPercent(text).includes(needle)) leaks.push('percent-encoded');
  return leaks;
}
