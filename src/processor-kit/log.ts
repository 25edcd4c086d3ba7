// JSON-line logging for the container side. Not pino: the kit is bundled into images that carry nothing
// but this bundle, and the control plane's logger is not the processor's business (eslint fences it).
// One line per event on stderr; the adapter collects them. Redaction happens on the serialised line, so
// no field, nested value or error message can carry a secret value that the kit read.
import { encodedForms } from '../contracts/secret-forms';

export const LIFECYCLE_EVENTS = [
  'execution.start',
  'provider.call',
  'provider.response',
  'storage.write',
  'execution.settle',
  'execution.fail',
] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

export interface LogContext {
  execution_id?: string;
  processor_ref: string;
  mode?: string;
  version: string;
}

// Credentials that may show up in a provider's error text even when we never handed them out. Each
// pattern's first group (if any) is kept: it is the label, not the secret.
const TOKEN_PATTERNS: readonly RegExp[] = [
  /()\bsk-[A-Za-z0-9_*-]{6,}/g,
  /(\bBearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  // Also inside a JSON string value, where the quotes arrive escaped (\").
  /(\b(?:api[_-]?key|token|secret|password)\\?["']?\s*[:=]\s*\\?["']?)[^\s"'\\,}]+/gi,
];

export class KitLogger {
  private readonly secrets: string[] = [];
  private readonly emitted = new Set<LifecycleEvent>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly context: LogContext,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Values to scrub from every later line (the secret values the kit has read). */
  addSecret(value: string): void {
    // Very short values would shred unrelated text; secrets that short are not secrets.
    if (value.length < 4) return;
    // Lines are redacted after serialisation, where a secret with a quote, backslash or control character
    // appears escaped: scrub the escaped spelling first, then the raw one.
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.secrets.push(escaped);
    this.secrets.push(value);
    // A provider may echo the key encoded (base64, hex, percent-encoded) in an error body; encoded forms are
    // ASCII without quotes or backslashes, so serialisation leaves them as they are.
    for (const form of encodedForms(value)) if (form.length >= 4) this.secrets.push(form);
    // Longest first, so a form that contains another goes whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  setContext(fields: Partial<LogContext>): void {
    Object.assign(this.context, fields);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[REDACTED]');
    for (const p of TOKEN_PATTERNS) {
      out = out.replace(p, '$1[REDACTED]');
    }
    return out;
  }

  /** A lifecycle event, at most once per run (a second attempt is a kit bug, so it throws). */
  lifecycle(event: LifecycleEvent, fields: Record<string, unknown> = {}): void {
    if (this.emitted.has(event)) throw new Error(`lifecycle event ${event} logged twice`);
    this.emitted.add(event);
    this.line(event === 'execution.fail' ? 'error' : 'info', event, fields);
  }

  /** Any other event (runner diagnostics). Lifecycle names are reserved for the kit. */
  event(event: string, fields: Record<string, unknown> = {}): void {
    if ((LIFECYCLE_EVENTS as readonly string[]).includes(event)) {
      throw new Error(`${event} is a lifecycle event; only the kit logs it`);
    }
    this.line('info', event, fields);
  }

  private line(level: 'info' | 'error', event: string, fields: Record<string, unknown>): void {
    const record = { level, time: this.now().toISOString(), event, ...this.context, ...fields };
    this.write(`${this.redact(JSON.stringify(record))}\n`);
  }
}
