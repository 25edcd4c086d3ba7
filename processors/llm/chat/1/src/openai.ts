// Real mode: one OpenAI-compatible Chat Completions call (POST {base}/chat/completions) over global fetch.
// The key comes from the kit (the file /run/secrets/OPENAI_API_KEY) and goes only into the Authorization
// header; no message, log line or error built here contains it — provider error text is reduced to its
// type/code and a redacted excerpt.
import { WorldloopError } from '../../../../../src/contracts/errors';
import type { KitLog } from '../../../../../src/processor-kit';
import { DEFAULT_MAX_TOKENS, type ChatInputs, type Completion } from './types';

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_TIMEOUT_MS = 60_000;
/** A 429 whose Retry-After is at most this long is retried once, inside the same run. */
export const MAX_RETRY_AFTER_MS = 30_000;

export interface OpenAiClientConfig {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Sent as OpenAI-Organization when set. */
  readonly organization?: string;
  readonly log?: KitLog;
  /** Test hook for the Retry-After wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Literal addresses no public route leads to: loopback, RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6
 * unique-local (fc00::/7). A gateway there (a company proxy, a test server on a private Docker network)
 * may speak plain http; the key never crosses the public internet in the clear.
 */
function isPrivateHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname)) return true;
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(hostname);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  return /^\[f[cd][0-9a-f]{0,2}:/i.test(hostname);
}

/** https always; plain http only to loopback or a private address (a local gateway or a test server). */
export function checkBaseUrl(raw: unknown): string {
  if (typeof raw !== 'string') throw new WorldloopError('ERR_CONFIG_INVALID', 'OPENAI_BASE_URL must be a string');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WorldloopError('ERR_CONFIG_INVALID', 'OPENAI_BASE_URL is not a URL');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new WorldloopError('ERR_CONFIG_INVALID', 'OPENAI_BASE_URL may not carry credentials, a query or a fragment');
  }
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && isPrivateHost(url.hostname));
  if (!ok) {
    throw new WorldloopError(
      'ERR_CONFIG_INVALID',
      'OPENAI_BASE_URL must use https (http only to loopback or a private address)',
    );
  }
  return url.href.replace(/\/+$/, '');
}

function redactKey(text: string, key: string): string {
  let out = key.length >= 4 ? text.split(key).join('[REDACTED]') : text;
  // Providers echo a masked key ("sk-abc***xyz"); drop anything key-shaped.
  out = out.replace(/\bsk-[A-Za-z0-9_*-]{4,}/g, '[REDACTED]');
  return out;
}

/** Retry-After in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unusable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function providerError(status: number, body: unknown, key: string, retryAfter?: number): WorldloopError {
  const err = (body as { error?: { message?: unknown; type?: unknown; code?: unknown } } | null)?.error;
  const parts = [`HTTP ${status}`];
  if (retryAfter !== undefined) parts.push(`retry after ${Math.ceil(retryAfter / 1000)} s`);
  if (typeof err?.type === 'string') parts.push(`type ${err.type.slice(0, 64)}`);
  if (typeof err?.code === 'string') parts.push(`code ${err.code.slice(0, 64)}`);
  if (typeof err?.message === 'string') parts.push(JSON.stringify(redactKey(err.message, key).slice(0, 300)));
  const detail = `chat completions: ${parts.join(', ')}`;
  if (status === 401 || status === 403) return new WorldloopError('ERR_PROVIDER_AUTH', `${detail} (OPENAI_API_KEY)`);
  if (status === 429) return new WorldloopError('ERR_PROVIDER_RATE_LIMITED', detail);
  if (status >= 500) return new WorldloopError('ERR_PROVIDER_UNAVAILABLE', detail);
  return new WorldloopError('ERR_PROVIDER_REJECTED', detail);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * One completion. A 429 that names a short Retry-After is waited out and sent once more (the wait counts
 * against neither attempt's timeout, but the container's own timeout still bounds the whole run); any other
 * failure, or a second 429, is the run's error.
 */
export async function chatCompletion(cfg: OpenAiClientConfig, inputs: ChatInputs): Promise<Completion> {
  try {
    return await attempt(cfg, inputs);
  } catch (err) {
    const wait = err instanceof RateLimited ? err.retryAfter : undefined;
    if (wait === undefined || wait > MAX_RETRY_AFTER_MS) throw err instanceof RateLimited ? err.error : err;
    cfg.log?.('provider.retry', { status: 429, wait_ms: wait });
    await (cfg.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms))))(wait);
    try {
      return await attempt(cfg, inputs);
    } catch (again) {
      throw again instanceof RateLimited ? again.error : again;
    }
  }
}

/** A 429 on its way to the retry decision; never leaves this module. */
class RateLimited extends Error {
  constructor(
    readonly error: WorldloopError,
    readonly retryAfter: number | undefined,
  ) {
    super(error.message);
  }
}

async function attempt(cfg: OpenAiClientConfig, inputs: ChatInputs): Promise<Completion> {
  const body: Record<string, unknown> = {
    model: inputs.model,
    messages: inputs.messages.map((m) => ({ role: m.role, content: m.content })),
    // Always bounded: the reservation assumes at most inputs.max_tokens (or the default) come back.
    max_tokens: inputs.max_tokens ?? DEFAULT_MAX_TOKENS,
  };
  if (inputs.temperature !== undefined) body.temperature = inputs.temperature;
  const url = `${cfg.baseUrl}/chat/completions`;
  // An explicit timer rather than AbortSignal.timeout(): on Node 18 (the images' runtime before ADR 0019) a
  // timeout signal that nothing else references can be collected before it fires, and the call then waits
  // for the provider forever (seen against a slow provider in tests/integration/llm-chat-real.test.ts). One
  // deadline covers the headers and the body.
  // The deadline is also raced, not only handed to fetch: on that Node 18 an aborted fetch was seen
  // to keep waiting for the provider's late answer (tests/integration/llm-chat-real.test.ts, slow case).
  const deadline = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      deadline.abort();
      reject(
        new WorldloopError('ERR_PROVIDER_UNAVAILABLE', `chat completions: no response within ${cfg.timeoutMs} ms`),
      );
    }, cfg.timeoutMs);
  });
  try {
    return await Promise.race([exchange(cfg, url, body, deadline.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(
  cfg: OpenAiClientConfig,
  url: string,
  body: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Completion> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${cfg.apiKey}`,
        'content-type': 'application/json',
        accept: 'application/json',
        ...(cfg.organization ? { 'openai-organization': cfg.organization } : {}),
      },
      body: JSON.stringify(body),
      signal,
      redirect: 'error',
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new WorldloopError('ERR_PROVIDER_UNAVAILABLE', `chat completions: no response within ${cfg.timeoutMs} ms`);
    }
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    throw new WorldloopError(
      'ERR_PROVIDER_UNAVAILABLE',
      `chat completions: ${new URL(url).host} cannot be reached${typeof cause === 'string' ? ` (${cause})` : ''}`,
    );
  }
  let text: string;
  try {
    text = await response.text();
  } catch {
    throw new WorldloopError(
      'ERR_PROVIDER_UNAVAILABLE',
      signal.aborted
        ? `chat completions: HTTP ${response.status}, no complete response within ${cfg.timeoutMs} ms`
        : `chat completions: HTTP ${response.status}, body not readable`,
    );
  }
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Left null: a non-JSON error page still maps by status; a non-JSON success is reported below.
  }
  if (response.status === 429) {
    const wait = retryAfterMs(response.headers.get('retry-after'));
    throw new RateLimited(providerError(429, json, cfg.apiKey, wait), wait);
  }
  if (!response.ok) throw providerError(response.status, json, cfg.apiKey);
  const data = json as {
    id?: unknown;
    model?: unknown;
    choices?: { message?: { content?: unknown }; finish_reason?: unknown }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  } | null;
  const choice = data?.choices?.[0];
  const content = choice?.message?.content;
  const usage = data?.usage;
  if (typeof content !== 'string' || !isCount(usage?.prompt_tokens) || !isCount(usage?.completion_tokens)) {
    throw new WorldloopError(
      'ERR_PROVIDER_UNAVAILABLE',
      `chat completions: HTTP ${response.status} without choices[0].message.content and usage token counts`,
    );
  }
  return {
    model: typeof data?.model === 'string' ? data.model : String(body.model),
    content,
    finish_reason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : 'unknown',
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    response_id: typeof data?.id === 'string' ? data.id : null,
  };
}
