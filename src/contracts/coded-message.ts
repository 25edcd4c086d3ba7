// The one grammar of a coded message, `[ERR_…] detail`: errors, Temporal failures, envelopes and the CLI all
// carry it, and tests match on the prefix. Only this module knows the brackets; everyone else formats and
// reads messages through it (or through errors.ts, which adds the catalogue check). A leaf module with no
// value imports, so errors.ts can build WorldloopError messages with it without an import cycle.
import type { ErrorCode } from './errors';

const CODE_PREFIX = /^\[(ERR_[A-Z0-9_]+)\]\s*/;

/** `[ERR_X] detail` — the form every layer emits. */
export function formatCodedMessage(code: ErrorCode, detail: string): string {
  return `[${code}] ${detail}`;
}

/**
 * Splits a message into the code token in its leading brackets (not yet checked against the catalogue) and
 * the detail after it. A message without a prefix is all detail.
 */
export function splitCodedMessage(message: string): { readonly token: string | undefined; readonly detail: string } {
  const match = CODE_PREFIX.exec(message);
  return match ? { token: match[1], detail: message.slice(match[0].length) } : { token: undefined, detail: message };
}
