// A workflow argument the worker's payload codec refused (src/temporal/exact-numbers-codec.ts, ADR 0010).
// The codec sees the JSON text a client sent; the workflow only ever sees what JSON.parse made of it. When
// the text holds a number a double cannot hold (or a duplicate member name), the codec hands the workflow
// this marker instead of the silently altered value, and the workflow fails the run with ERR_INPUTS before
// any phase runs. A client that sends the marker itself only refuses its own run. Pure: safe in workflows.

/** The one member of a refused payload; no run request or workflow input has a member of this name. */
export const REFUSED_PAYLOAD_MEMBER = 'worldloop_refused_payload';

/** The JSON text that replaces a refused payload. */
export function refusedPayloadJson(detail: string): string {
  return JSON.stringify({ [REFUSED_PAYLOAD_MEMBER]: detail });
}

/** Why the codec refused this decoded workflow argument, or undefined for an ordinary value. */
export function refusedPayloadDetail(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const detail = (value as Record<string, unknown>)[REFUSED_PAYLOAD_MEMBER];
  return typeof detail === 'string' ? detail : undefined;
}
