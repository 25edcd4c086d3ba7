// A small OpenAI-compatible Chat Completions server for the real-mode tests, run inside a network
// namespace the test creates (`ip netns exec <ns> node --import tsx tests/integration/fake-openai.ts
// <address> <port>`). The request's `model` picks the answer, so one server serves every case; each request
// is reported as one JSON line on stdout (path, Authorization, OpenAI-Organization, model) for the test.
import { createServer, type ServerResponse } from 'node:http';

const [address = '0.0.0.0', portText = '8080'] = process.argv.slice(2);
const attempts = new Map<string, number>();

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function completion(model: string, content: string): unknown {
  return {
    id: `chatcmpl-fake-${model}`,
    object: 'chat.completion',
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  };
}

/** The key as a careless provider echoes it: base64 inside a longer stream, base64url, hex, percent-encoded. */
function echoKey(authorization: string): unknown {
  const key = authorization.replace(/^Bearer /, '');
  const bytes = Buffer.from(key, 'utf8');
  return {
    error: {
      message:
        `Incorrect API key. Basic ${Buffer.from(`user:${key}`).toString('base64')} ` +
        `token ${Buffer.concat([Buffer.from('xy'), bytes]).toString('base64url')} ` +
        `dump 0x${bytes.toString('hex').toUpperCase()} url ?k=${encodeURIComponent(key)}`,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      // Structured fields too, which the processor never copies but a less careful one might.
      key_b64: bytes.toString('base64'),
      key_hex: bytes.toString('hex'),
    },
  };
}

const server = createServer((req, res) => {
  let text = '';
  req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  req.on('end', () => {
    let model = '';
    try {
      model = String((JSON.parse(text) as { model?: unknown }).model ?? '');
    } catch {
      // reported with an empty model
    }
    const attempt = (attempts.get(model) ?? 0) + 1;
    attempts.set(model, attempt);
    const authorization = req.headers.authorization ?? '';
    process.stdout.write(
      `${JSON.stringify({ path: req.url, model, attempt, authorization, organization: req.headers['openai-organization'] ?? null, at: Date.now() })}\n`,
    );
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions')
      return json(res, 404, { error: { message: 'no' } });
    switch (model.replace(/-[0-9]+$/, '')) {
      case 'ok':
        return json(res, 200, completion(model, `hello from the fake at ${address}`));
      case 'unauthorized':
        return json(res, 401, { error: { message: 'Incorrect API key provided.', code: 'invalid_api_key' } });
      case 'rate-once':
        if (attempt === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' });
        return json(res, 200, completion(model, 'after the wait'));
      case 'rate-long':
        return json(res, 429, { error: { message: 'quota exhausted' } }, { 'retry-after': '3600' });
      case 'broken':
        return json(res, 500, { error: { message: 'The server had an error' } });
      case 'slow':
        setTimeout(() => json(res, 200, completion(model, 'too late')), 10_000).unref();
        return;
      case 'echo-key':
        return json(res, 401, echoKey(authorization));
      default:
        return json(res, 400, { error: { message: `unknown scenario ${model}`, code: 'model_not_found' } });
    }
  });
});
server.listen(Number(portText), address, () => process.stdout.write(`${JSON.stringify({ listening: true })}\n`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
