// Issue 14 item 7: credentials go to the configured registry only. The registry runs on 127.0.0.1 and a
// "foreign" server on 127.0.0.2 (another host on loopback); the registry hands out a `Link: rel="next"`,
// an upload `Location`, a redirect and a token realm that point at the foreign host, and the foreign host
// records every Authorization header it receives. A plain-http realm on a non-loopback host is refused
// before any request is made.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { OciClient, sha256Digest } from '../../src/oci';
import { isRegistryOrigin, tokenRealmUrl } from '../../src/oci/auth';

const BASIC = `Basic ${Buffer.from('ci:s3cret').toString('base64')}`;
const blob = Buffer.from('layer bytes');
const blobDigest = sha256Digest(blob);

let registry: Server;
let foreign: Server;
let registryHost: string;
let foreignHost: string;
/** Authorization headers the foreign host saw (undefined entries: requests without one) */
const foreignSaw: (string | undefined)[] = [];
/** how the registry challenges: Basic, or Bearer with this realm */
let challenge: string;

function listen(server: Server, address: string): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, address, () => resolve(`${address}:${(server.address() as AddressInfo).port}`)),
  );
}

beforeAll(async () => {
  foreign = createServer((req, res) => {
    foreignSaw.push(req.headers.authorization);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/o/img/tags/list') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tags: ['b'] }));
    } else if (url.pathname === '/upload/1') {
      req.resume();
      req.on('end', () => res.writeHead(201).end());
    } else if (url.pathname === '/upload/challenge') {
      // a foreign host asking for credentials must not get them
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="foreign"' }).end();
    } else if (url.pathname === `/blobs/${blobDigest}`) {
      res.writeHead(200).end(blob);
    } else if (url.pathname === '/token') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok' }));
    } else {
      res.writeHead(404).end();
    }
  });
  registry = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const authorized = req.headers.authorization === BASIC || req.headers.authorization === 'Bearer tok';
    if (!authorized) {
      res.writeHead(401, { 'www-authenticate': challenge }).end();
      return;
    }
    if (url.pathname === '/v2/o/img/tags/list') {
      res.writeHead(200, {
        'content-type': 'application/json',
        link: `<http://${foreignHost}/v2/o/img/tags/list?last=a>; rel="next"`,
      });
      res.end(JSON.stringify({ tags: ['a'] }));
    } else if (url.pathname === `/v2/o/img/blobs/${blobDigest}`) {
      res.writeHead(req.method === 'HEAD' ? 404 : 307, { location: `http://${foreignHost}/blobs/${blobDigest}` });
      res.end();
    } else if (url.pathname === '/v2/o/img/blobs/uploads/') {
      res.writeHead(202, { location: `http://${foreignHost}/upload/1` }).end();
    } else if (url.pathname === '/v2/o/challenge/blobs/uploads/') {
      res.writeHead(202, { location: `http://${foreignHost}/upload/challenge` }).end();
    } else if (req.method === 'HEAD' && url.pathname.startsWith('/v2/o/')) {
      res.writeHead(404).end();
    } else {
      res.writeHead(404).end();
    }
  });
  registryHost = await listen(registry, '127.0.0.1');
  foreignHost = await listen(foreign, '127.0.0.2');
});

beforeEach(() => {
  foreignSaw.length = 0;
  challenge = 'Basic realm="registry"';
});

afterAll(async () => {
  await new Promise<void>((resolve) => registry.close(() => resolve()));
  await new Promise<void>((resolve) => foreign.close(() => resolve()));
});

function client(extra: { fetch?: typeof fetch } = {}): OciClient {
  return new OciClient({
    credentials: (host) => (host === registryHost ? { username: 'ci', password: 's3cret' } : undefined),
    ...extra,
  });
}

describe('OciClient sends credentials to the configured registry only', () => {
  it('follows a Link rel="next" on another host without the Authorization header', async () => {
    expect(await client().listTags(`${registryHost}/o/img`)).toEqual(['a', 'b']);
    expect(foreignSaw).toEqual([undefined]);
  });

  it('uploads to a Location on another host without the Authorization header', async () => {
    const pushed = await client().pushBlob(`${registryHost}/o/img`, blob, blobDigest);
    expect(pushed.uploaded).toBe(true);
    expect(foreignSaw).toEqual([undefined]);
  });

  it('does not answer a credentials challenge from another host', async () => {
    const err = await client()
      .pushBlob(`${registryHost}/o/challenge`, blob, blobDigest)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_OCI');
    expect((err as WorldloopError).detail).toMatch(/HTTP 401/);
    expect(foreignSaw).toEqual([undefined]);
  });

  it('drops the Authorization header on a redirect to another host', async () => {
    expect(Buffer.from(await client().getBlob(`${registryHost}/o/img`, blobDigest, blob.byteLength))).toEqual(blob);
    expect(foreignSaw).toEqual([undefined]);
  });

  it('sends the basic credentials to a loopback token realm of a loopback registry', async () => {
    challenge = `Bearer realm="http://${foreignHost}/token",service="s"`;
    expect(await client().listTags(`${registryHost}/o/img`)).toEqual(['a', 'b']);
    // the token request carries the credentials (the realm is the registry's own token service); the
    // Link target, another host, carries nothing
    expect(foreignSaw).toEqual([BASIC, undefined]);
  });

  it('refuses a plain-http realm on a non-loopback host with a code, before any request to it', async () => {
    challenge = 'Bearer realm="http://auth.example.invalid/token",service="s"';
    const attempted: string[] = [];
    const recording: typeof fetch = (input, init) => {
      attempted.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const err = await client({ fetch: recording })
      .listTags(`${registryHost}/o/img`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_OCI_INSECURE_REALM');
    expect(attempted.filter((u) => u.includes('example.invalid'))).toEqual([]);
  });
});

describe('where credentials may go (the pure rules)', () => {
  it('sends them to a token realm over https, on any host', () => {
    expect(tokenRealmUrl('https://auth.docker.io/token', 'registry-1.docker.io').origin).toBe('https://auth.docker.io');
    expect(tokenRealmUrl('https://ghcr.io/token', 'ghcr.io').origin).toBe('https://ghcr.io');
  });

  it('sends them over plain http only between loopback hosts', () => {
    expect(tokenRealmUrl('http://127.0.0.2:9/token', '127.0.0.1:5000').host).toBe('127.0.0.2:9');
    for (const [realm, registry] of [
      ['http://auth.example.com/token', 'ghcr.io'],
      ['http://auth.example.com/token', '127.0.0.1:5000'],
      ['http://127.0.0.1/token', 'ghcr.io'],
      ['ftp://auth.example.com/token', 'ghcr.io'],
    ] as const) {
      expect(() => tokenRealmUrl(realm, registry)).toThrow(/^\[ERR_OCI_INSECURE_REALM\]/);
    }
    expect(() => tokenRealmUrl('not a url', 'ghcr.io')).toThrow(/^\[ERR_OCI\]/);
  });

  it('treats scheme, host and port as the registry origin', () => {
    expect(isRegistryOrigin('https://ghcr.io/v2/o/r/tags/list', 'ghcr.io')).toBe(true);
    expect(isRegistryOrigin('https://ghcr.io:443/v2/', 'ghcr.io')).toBe(true);
    expect(isRegistryOrigin('http://ghcr.io/v2/', 'ghcr.io')).toBe(false);
    expect(isRegistryOrigin('https://pkg-containers.githubusercontent.com/x', 'ghcr.io')).toBe(false);
    expect(isRegistryOrigin('http://127.0.0.1:5000/v2/', '127.0.0.1:5000')).toBe(true);
    expect(isRegistryOrigin('http://127.0.0.2:5000/v2/', '127.0.0.1:5000')).toBe(false);
  });
});
