// The worker's payload codec: where the inputs hash's exact-number rule (ADR 0010) meets JSON that worldloop
// did not parse. Any client — ours, another SDK, `temporal workflow start --input` — sends a run's inputs
// as JSON text in the workflow start payload, and the SDK would read it with JSON.parse, rounding a literal
// such as 12345678901234567890 without a word; Admit only ever sees the rounded double and cannot tell.
// Codecs run on the raw payload bytes in the worker's main thread before anything decodes them, so this is
// the one place no client can go around. A refused payload is replaced by a marker the workflow turns into
// ERR_INPUTS (src/contracts/refused-payload.ts); every other payload passes through byte for byte.
import type { Payload, PayloadCodec } from '@temporalio/common';
import { refusedPayloadJson } from '../contracts/refused-payload';
import { findHashUnsafeJson } from '../hashing/json-number-scan';

const JSON_ENCODING = 'json/plain';
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

function isJson(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && utf8Decoder.decode(encoding) === JSON_ENCODING;
}

export const exactNumbersCodec: PayloadCodec = {
  encode: (payloads) => Promise.resolve(payloads),
  decode: (payloads) =>
    Promise.resolve(
      payloads.map((payload) => {
        if (!payload.data || !isJson(payload)) return payload;
        const problem = findHashUnsafeJson(utf8Decoder.decode(payload.data));
        if (problem === undefined) return payload;
        return { ...payload, data: utf8Encoder.encode(refusedPayloadJson(`payload: ${problem}`)) };
      }),
    ),
};
