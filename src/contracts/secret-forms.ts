// The spellings a secret value takes once something has encoded it: a provider that echoes the key
// base64-encoded in an error body, a client library that hex-dumps a header, a URL that percent-encodes
// it. Pure (no pino, no I/O), so the control-plane redactor and the processor kit inside an image use the
// same list. In src/contracts because it is pure and both src/log and the kit may import contracts.
//
// Base64 is the subtle one: a secret embedded in a longer byte stream ("Authorization: Basic " +
// base64("user:" + key)) does not start on a 3-byte boundary, so its characters differ with the byte
// offset modulo 3. For each offset 0, 1 and 2 the characters that depend on the secret's bytes alone are
// kept (the first one or two, mixed with the bytes before, and the last, mixed with the bytes after, are
// dropped); every longer base64 text that carries the secret contains one of those three cores. The whole
// padded and unpadded encodings are listed too, so a secret encoded on its own goes entirely, including
// the final characters a core leaves out.

/** Every encoded spelling of `value` (UTF-8 bytes), without duplicates, in no particular order. */
export function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>();
  for (const form of base64Forms(bytes)) forms.add(form);
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  for (const form of percentForms(value, bytes)) forms.add(form);
  forms.delete(value);
  return [...forms];
}

function base64Forms(bytes: Buffer): string[] {
  const forms: string[] = [];
  const standard = bytes.toString('base64');
  forms.push(standard, standard.replace(/=+$/, ''));
  for (let offset = 0; offset < 3; offset++) {
    // Encode behind `offset` filler bytes, then keep the characters whose six bits all come from the secret:
    // character i covers bits [6i, 6i + 6) of the stream, the secret bits [8·offset, 8·(offset + n)).
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    if (end > start) forms.push(encoded.slice(start, end));
  }
  // URL-safe alphabet (RFC 4648 §5): the same characters with - and _ for + and /.
  return [...forms, ...forms.map((form) => form.replace(/\+/g, '-').replace(/\//g, '_'))];
}

function percentForms(value: string, bytes: Buffer): string[] {
  const forms: string[] = [];
  try {
    forms.push(encodeURIComponent(value), encodeURI(value));
  } catch {
    // A lone surrogate has no percent-encoding of its own; the per-byte forms below still cover it.
  }
  // application/x-www-form-urlencoded (space as +, ~ and ! encoded).
  forms.push(new URLSearchParams({ v: value }).toString().slice(2));
  // Every byte escaped, as some clients and proxies log it, in both hex cases.
  const everyByte = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  forms.push(everyByte, everyByte.toUpperCase());
  // Lower-case escapes of the usual encoding (RFC 3986 says either case denotes the same octet).
  const lowerEscapes = forms.map((form) => form.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
  return [...forms, ...lowerEscapes];
}
