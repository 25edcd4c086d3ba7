// The bearer-token challenge flow of the OCI client. The loopback registry used elsewhere has no auth,
// so this runs against a small local HTTP server that speaks the Docker token protocol: 401 with
// WWW-Authenticate: Bearer realm/service/scope, a token endpoint that checks basic credentials, and a
// registry endpoint that accepts only the issued token.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { OciClient, sha256Digest } from '../../src/oci';

const body = new TextEncoder().encode(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
);
let server: Server;
let host: string;
const seen: { scope?: string; auth?: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname === '/token') {
      seen.push({ scope: url.searchParams.get('scope') ?? undefined, auth: req.headers.authorization });
      const ok = req.headers.authorization === `Basic ${Buffer.from('ci:s3cret').toString('base64')}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { token: 'tok-1' } : { errors: [{ code: 'UNAUTHORIZED', message: 'bad creds' }] }));
      return;
    }
    if (req.headers.authorization !== 'Bearer tok-1') {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="test-registry",scope="repository:o/r/img:pull"`,
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/vnd.oci.image.index.v1+json',
      'docker-content-digest': sha256Digest(body),
    });
    res.end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('OciClient bearer-token auth', () => {
  it('answers the challenge with a token fetched using the basic credentials, then retries', async () => {
    const client = new OciClient({
      credentials: (registry) => (registry === host ? { username: 'ci', password: 's3cret' } : undefined),
    });
    const m = await client.getManifest(`${host}/o/r/img`, 'v1');
    expect(m.digest).toBe(sha256Digest(body));
    expect(seen.at(-1)).toEqual({
      scope: 'repository:o/r/img:pull',
      auth: `Basic ${Buffer.from('ci:s3cret').toString('base64')}`,
    });
    // the token is reused: no second token request
    const before = seen.length;
    await client.headManifest(`${host}/o/r/img`, 'v1');
    expect(seen.length).toBe(before);
  });

  it('turns refused credentials into ERR_OCI with the token endpoint status and message', async () => {
    const client = new OciClient({ credentials: () => ({ username: 'ci', password: 'wrong' }) });
    const err = await client.getManifest(`${host}/o/r/img`, 'v1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_OCI');
    expect((err as WorldloopError).detail).toMatch(/HTTP 401 \(UNAUTHORIZED bad creds\)/);
  });
});
