// llm/chat@1. Mock mode is checked for determinism and its documented token/cost rules; real mode is
// checked against a local OpenAI-compatible HTTP server on 127.0.0.1 (the real provider is a boundary this
// machine cannot reach), including the error mapping and that the API key never reaches a log line.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { WorldloopError } from '../../src/contracts/errors';
import { inputsHash } from '../../src/hashing/inputs-hash';
import { runProcessor } from '../../src/processor-kit/run-processor';
import type { EmbeddedSpec, ProcessorResult, RunnerConfig } from '../../src/processor-kit/types';
import { embeddedSpec } from '../../src/build/bundle';
import { getEntry, loadRegistry } from '../../src/registry/registry';
import { mockCompletion } from '../../processors/llm/chat/1/src/mock';
import { checkBaseUrl } from '../../processors/llm/chat/1/src/openai';
import { costMicro, countPromptTokens, countTokens, priceFor } from '../../processors/llm/chat/1/src/pricing';
import { makeRunner } from '../../processors/llm/chat/1/src/runner';
import type { ChatInputs } from '../../processors/llm/chat/1/src/types';

const KEY = 'sk-live-TESTKEY-do-not-log-4242424242';
const EXEC_ID = '0190a5b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b';
const INPUTS: ChatInputs = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello.' },
  ],
  max_tokens: 64,
};

function config(mode: 'mock' | 'real', inputs: ChatInputs, settings: Record<string, unknown> = {}): RunnerConfig {
  return {
    mode,
    executionId: EXEC_ID,
    inputsHash: inputsHash(inputs),
    secrets: mode === 'real' ? { OPENAI_API_KEY: KEY } : {},
    settings,
    log: () => undefined,
  };
}

const text = (r: ProcessorResult, i: number): string => {
  const b = r.outputs[i]!.bytes;
  return typeof b === 'string' ? b : Buffer.from(b).toString('utf8');
};

describe('pricing and token rules', () => {
  it('counts ceil(UTF-8 bytes / 4) per text and 4 framing tokens per message', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('abcd')).toBe(1);
    expect(countTokens('abcde')).toBe(2);
    expect(countTokens('😀')).toBe(1);
    expect(countPromptTokens(INPUTS.messages)).toBe(4 + 3 + 4 + 3);
  });

  it('prices by exact model, dated snapshot, or the most expensive listed model', () => {
    expect(priceFor('gpt-4o-mini').priced_as).toBe('gpt-4o-mini');
    expect(priceFor('gpt-4o-mini-2024-07-18').priced_as).toBe('gpt-4o-mini');
    expect(priceFor('gpt-4o-2024-08-06').priced_as).toBe('gpt-4o');
    expect(priceFor('some-local-model')).toEqual({
      price: { input: 2_500_000, output: 10_000_000 },
      priced_as: 'fallback',
    });
    // 1000 × 0.15 + 500 × 0.60 micro-dollars = 450; rounding is always up.
    expect(costMicro('gpt-4o-mini', 1000, 500)).toBe(450);
    expect(costMicro('gpt-4o-mini', 1, 0)).toBe(1);
    expect(costMicro('gpt-4o-mini', 0, 0)).toBe(0);
  });

  it('keeps the registry reservation above the largest possible charge', async () => {
    const entry = getEntry(await loadRegistry(join(REPO_ROOT, 'registry')), 'llm/chat@1');
    const props = entry.inputs.properties as Record<string, { maxItems?: number; maximum?: number; items?: unknown }>;
    const maxMessages = props.messages!.maxItems!;
    const maxContent = (props.messages!.items as { properties: { content: { maxLength: number } } }).properties.content
      .maxLength;
    const maxPrompt = maxMessages * (4 + maxContent); // ≥ one token per code point plus framing
    const worst = costMicro('unknown-model', maxPrompt, props.max_tokens!.maximum!);
    expect(entry.cost.reserve_micro).toBeGreaterThanOrEqual(worst);
  });
});

describe('mock mode', () => {
  it('derives a deterministic completion from the inputs_hash, with usage and cost from the documented rules', async () => {
    const a = await makeRunner(config('mock', INPUTS))(INPUTS);
    const b = await makeRunner(config('mock', INPUTS))(INPUTS);
    expect(text(a, 0)).toBe(text(b, 0));
    const hash = inputsHash(INPUTS).value;
    expect(text(a, 1)).toMatch(new RegExp(`^Mock reply ${hash.slice(0, 12)}: [a-z ]+\\.$`));
    const doc = JSON.parse(text(a, 0)) as { message: { content: string }; usage: Record<string, number> };
    expect(doc.message.content).toBe(text(a, 1));
    const completionTokens = countTokens(text(a, 1));
    expect(a.usage).toEqual({
      model: 'gpt-4o-mini',
      prompt_tokens: 14,
      completion_tokens: completionTokens,
      total_tokens: 14 + completionTokens,
      finish_reason: 'stop',
    });
    expect(a.cost_micro).toBe(costMicro('gpt-4o-mini', 14, completionTokens));
    expect(a.outputs.map((o) => [o.relpath, o.mime])).toEqual([
      ['outputs/completion.json', 'application/json'],
      ['outputs/completion.txt', 'text/plain; charset=utf-8'],
    ]);
    const other = await makeRunner(config('mock', { ...INPUTS, model: 'gpt-4.1' }))({ ...INPUTS, model: 'gpt-4.1' });
    expect(text(other, 1)).not.toBe(text(a, 1));
  });

  it('stops at max_tokens and says so', () => {
    const short = mockCompletion({ ...INPUTS, max_tokens: 3 }, 'ab'.repeat(32));
    expect(short.completion_tokens).toBe(3);
    expect(short.content).toHaveLength(12);
    expect(short.finish_reason).toBe('length');
  });
});

// ---- real mode against a local fake provider ----

interface Seen {
  method: string | undefined;
  url: string | undefined;
  auth: string | undefined;
  organization: string | string[] | undefined;
  at: number;
  body: Record<string, unknown>;
}
let server: Server;
let base: string;
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        organization: req.headers['openai-organization'],
        at: Date.now(),
        body: JSON.parse(body || '{}'),
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

const reply =
  (status: number, body: unknown) =>
  (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

const OK_BODY = {
  id: 'chatcmpl-123',
  object: 'chat.completion',
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 },
};

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WorldloopError) return { code: err.code, message: err.message };
    return { code: `non-worldloop: ${String(err)}`, message: String(err) };
  }
  return { code: 'no error', message: '' };
}

describe('real mode against an OpenAI-compatible server', () => {
  it('posts the chat request with the bearer key and takes usage and cost from the response', async () => {
    handler = reply(200, OK_BODY);
    const result = await makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: `${base}/` }))({
      ...INPUTS,
      temperature: 0.2,
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions', auth: `Bearer ${KEY}` });
    expect(seen[0]!.body).toEqual({
      model: 'gpt-4o-mini',
      messages: INPUTS.messages,
      max_tokens: 64,
      temperature: 0.2,
    });
    expect(text(result, 1)).toBe('Hello!');
    expect(result.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 });
    expect(result.cost_micro).toBe(450);
    expect(result.processor_info).toMatchObject({ response_id: 'chatcmpl-123', priced_as: 'gpt-4o-mini' });
    expect(JSON.parse(text(result, 0))).toMatchObject({ model: 'gpt-4o-mini-2024-07-18', response_id: 'chatcmpl-123' });
  });

  it('always bounds max_tokens, so the reservation holds', async () => {
    handler = reply(200, OK_BODY);
    const { max_tokens: _unused, ...noMax } = INPUTS;
    await makeRunner(config('real', noMax, { OPENAI_BASE_URL: base }))(noMax);
    expect(seen[0]!.body.max_tokens).toBe(1024);
  });

  it.each([
    [
      401,
      {
        error: {
          message: `Incorrect API key provided: ${KEY}`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
      'ERR_PROVIDER_AUTH',
    ],
    [403, { error: { message: 'forbidden' } }, 'ERR_PROVIDER_AUTH'],
    [
      429,
      { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
      'ERR_PROVIDER_RATE_LIMITED',
    ],
    [500, { error: { message: 'The server had an error' } }, 'ERR_PROVIDER_UNAVAILABLE'],
    [503, '<html>busy</html>', 'ERR_PROVIDER_UNAVAILABLE'],
    [400, { error: { message: 'model not found', code: 'model_not_found' } }, 'ERR_PROVIDER_REJECTED'],
    [200, '{"choices":[]}', 'ERR_PROVIDER_UNAVAILABLE'],
    [200, 'not json', 'ERR_PROVIDER_UNAVAILABLE'],
  ])('maps HTTP %i to its code (%s)', async (status, body, code) => {
    handler = reply(status, body);
    const r = await codeOf(makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: base }))(INPUTS));
    expect(r.code).toBe(code);
    expect(r.message).toContain(`HTTP ${status}`);
    expect(r.message).not.toContain(KEY);
    expect(r.message).not.toContain('TESTKEY');
  });

  it('times out slow providers as ERR_PROVIDER_UNAVAILABLE', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const r = await codeOf(
      makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: base, OPENAI_TIMEOUT_MS: 200 }))(INPUTS),
    );
    expect(r.code).toBe('ERR_PROVIDER_UNAVAILABLE');
    expect(r.message).toMatch(/no response within 200 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports an unreachable provider as ERR_PROVIDER_UNAVAILABLE', async () => {
    const r = await codeOf(makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }))(INPUTS));
    expect(r.code).toBe('ERR_PROVIDER_UNAVAILABLE');
  });

  it('sends OPENAI_ORGANIZATION as the OpenAI-Organization header, and refuses a malformed one', async () => {
    handler = reply(200, OK_BODY);
    await makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: base, OPENAI_ORGANIZATION: 'org-abc_123' }))(INPUTS);
    expect(seen[0]!.organization).toBe('org-abc_123');
    await makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: base }))(INPUTS);
    expect(seen[1]!.organization).toBeUndefined();
    const r = await codeOf(
      makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: base, OPENAI_ORGANIZATION: 'a\r\nX-Injected: 1' }))(INPUTS),
    );
    expect(r.code).toBe('ERR_CONFIG_INVALID');
  });

  it('waits out a short Retry-After on 429 and sends once more', async () => {
    let calls = 0;
    handler = (req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: { message: 'slow down', code: 'rate_limit_exceeded' } }));
      } else reply(200, OK_BODY)(req, res);
    };
    const result = await makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: base }))(INPUTS);
    expect(text(result, 1)).toBe('Hello!');
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up on a 429 whose Retry-After is too long, or on a second 429, naming the wait', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3600' });
      res.end(JSON.stringify({ error: { message: 'quota' } }));
    };
    const long = await codeOf(makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: base }))(INPUTS));
    expect(long.code).toBe('ERR_PROVIDER_RATE_LIMITED');
    expect(long.message).toContain('retry after 3600 s');
    expect(seen).toHaveLength(1);
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '0' });
      res.end('{}');
    };
    const twice = await codeOf(makeRunner(config('real', INPUTS, { OPENAI_BASE_URL: base }))(INPUTS));
    expect(twice.code).toBe('ERR_PROVIDER_RATE_LIMITED');
    expect(seen).toHaveLength(3);
  });

  it.each([
    'http://api.example.com/v1',
    'http://8.8.8.8/v1',
    'http://172.32.0.1/v1',
    'http://[2001:db8::1]/v1',
    'ftp://127.0.0.1/v1',
    'https://u:p@api.example.com/v1',
    'nonsense',
    42,
  ])('refuses the base URL %j', (url) => {
    expect(() => checkBaseUrl(url)).toThrow(/ERR_CONFIG_INVALID/);
  });

  it('accepts https anywhere and http on loopback', () => {
    expect(checkBaseUrl('https://api.openai.com/v1/')).toBe('https://api.openai.com/v1');
    expect(checkBaseUrl('http://localhost:8080/v1')).toBe('http://localhost:8080/v1');
    for (const url of [
      'http://10.1.2.3:8080/v1',
      'http://172.16.9.9/v1',
      'http://192.168.0.5/v1',
      'http://[fd00::1]/v1',
    ]) {
      expect(checkBaseUrl(url)).toBe(url);
    }
  });
});

describe('the whole kit in real mode', () => {
  let work: string;
  let spec: EmbeddedSpec;
  beforeAll(async () => {
    spec = embeddedSpec(getEntry(await loadRegistry(join(REPO_ROOT, 'registry')), 'llm/chat@1'));
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'wl-chat-'));
    await mkdir(join(work, 'secrets'));
    await writeFile(join(work, 'secrets', 'OPENAI_API_KEY'), `${KEY}\n`);
    await writeFile(join(work, 'inputs.json'), JSON.stringify(INPUTS));
    await writeFile(join(work, 'config.json'), JSON.stringify({ OPENAI_BASE_URL: base }));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function kit(mode: string): Promise<{ code: number; stderr: string }> {
    let stderr = '';
    const code = await runProcessor(
      { spec, version: '1.0.0', makeRunner },
      {
        argv: [
          '--inputs',
          `@${join(work, 'inputs.json')}`,
          '--write-prefix',
          'world://artifacts/outputs/llm/chat/r/',
          '--execution-id',
          EXEC_ID,
          '--mode',
          mode,
          '--out',
          join(work, 'out'),
        ],
        stderr: (l) => (stderr += l),
        secretsDir: join(work, 'secrets'),
      },
    );
    return { code, stderr };
  }

  it('succeeds, records usage and cost in the receipt, and never logs the key', async () => {
    handler = reply(200, OK_BODY);
    const r = await kit('real');
    expect(r.code, r.stderr).toBe(0);
    expect(seen[0]!.auth).toBe(`Bearer ${KEY}`);
    const receipt = JSON.parse(await readFile(join(work, 'out', 'receipt.json'), 'utf8')) as Record<string, unknown>;
    expect(receipt).toMatchObject({
      mode: 'real',
      cost_micro: 450,
      usage: { prompt_tokens: 1000, completion_tokens: 500 },
    });
    expect(r.stderr).not.toContain(KEY);
    expect(await readFile(join(work, 'out', 'receipt.json'), 'utf8')).not.toContain(KEY);
  });

  it('fails a 401 that echoes the key with ERR_PROVIDER_AUTH, and the key appears nowhere', async () => {
    handler = reply(401, {
      error: { message: `Incorrect API key provided: ${KEY}. Find yours at …`, code: 'invalid_api_key' },
    });
    const r = await kit('real');
    expect(r.code).toBe(2);
    const fail = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(fail).toMatchObject({ event: 'execution.fail', code: 'ERR_PROVIDER_AUTH' });
    expect(r.stderr).not.toContain(KEY);
    expect(r.stderr).not.toContain('TESTKEY');
  });

  it('maps 429 to a retryable failure (exit 1)', async () => {
    handler = reply(429, { error: { message: 'slow down' } });
    const r = await kit('real');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"code":"ERR_PROVIDER_RATE_LIMITED"');
  });

  it('mock mode makes no request and reads no key', async () => {
    handler = reply(500, {});
    const r = await kit('mock');
    expect(r.code, r.stderr).toBe(0);
    expect(seen).toHaveLength(0);
  });
});
