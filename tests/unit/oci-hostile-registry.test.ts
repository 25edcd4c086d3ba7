// Issue 14 item 6: a registry that answers with a huge manifest or a blob longer or shorter than its
// descriptor declares. The hostile registry is a node:http server on loopback that streams its bodies
// (nothing large is ever held by the test either) and counts what it managed to send. The client must
// refuse with a code, stop reading early, and keep its memory bounded.
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { MEDIA_TYPES, OciClient, sha256Digest } from '../../src/oci';
import { assertIndexPlatforms } from '../../src/oci/index-platforms';

const MiB = 1024 * 1024;
const HUGE = 400 * MiB;
const CHUNK = Buffer.alloc(64 * 1024, 0x20); // spaces: valid JSON whitespace, so only the size is wrong

const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
const configDigest = sha256Digest(config);
const small = Buffer.from('0123456789abcdef'.repeat(64)); // 1024 bytes
const smallDigest = sha256Digest(small);

/** An index whose amd64 entry is a manifest naming `config` with its true size (served too long below). */
const image = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.byteLength },
    layers: [],
  }),
);
const index = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: sha256Digest(image),
        size: image.byteLength,
        platform: { architecture: 'amd64', os: 'linux' },
      },
    ],
  }),
);

let server: Server;
let host: string;
/** bytes the server wrote per path, to show the client stopped reading */
const sent = new Map<string, number>();

/** Writes `total` bytes (starting with `head`) with backpressure, until done or the client goes away. */
async function stream(req: IncomingMessage, res: ServerResponse, total: number, head: Buffer = Buffer.alloc(0)) {
  let written = 0;
  let closed = false;
  res.on('close', () => (closed = true));
  const write = (buf: Buffer): Promise<void> =>
    res.write(buf) ? Promise.resolve() : new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
  if (head.byteLength > 0) {
    await write(head);
    written += head.byteLength;
  }
  while (!closed && written < total) {
    const n = Math.min(CHUNK.byteLength, total - written);
    await write(n === CHUNK.byteLength ? CHUNK : CHUNK.subarray(0, n));
    written += n;
    sent.set(req.url!, written);
  }
  if (!closed) res.end();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    sent.set(req.url!, 0);
    if (path === '/v2/o/huge/manifests/v1') {
      // chunked: no Content-Length to warn the client
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest });
      void stream(req, res, HUGE, Buffer.from('{"schemaVersion":2,"pad":"'));
      return;
    }
    if (path === '/v2/o/declared/manifests/v1') {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest, 'content-length': String(HUGE) });
      void stream(req, res, HUGE);
      return;
    }
    if (path === `/v2/o/long/blobs/${smallDigest}`) {
      // the right first 1024 bytes, then 100 MiB more
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      void stream(req, res, small.byteLength + 100 * MiB, small);
      return;
    }
    if (path === `/v2/o/short/blobs/${smallDigest}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '512' });
      res.end(small.subarray(0, 512));
      return;
    }
    if (path === `/v2/o/exact/blobs/${smallDigest}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(small);
      return;
    }
    if (path === '/v2/o/platforms/manifests/v1' || path === `/v2/o/platforms/manifests/${sha256Digest(index)}`) {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex, 'docker-content-digest': sha256Digest(index) });
      res.end(index);
      return;
    }
    if (path === `/v2/o/platforms/manifests/${sha256Digest(image)}`) {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest });
      res.end(image);
      return;
    }
    if (path === `/v2/o/platforms/blobs/${configDigest}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      void stream(req, res, config.byteLength + 200 * MiB, config);
      return;
    }
    if (path === '/v2/o/error/manifests/v1') {
      // an error body of 400 MiB: even the message we quote from it is read bounded
      res.writeHead(500, { 'content-type': 'text/plain' });
      void stream(req, res, HUGE);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Runs `fn`, sampling RSS every 5 ms; returns its rejection and the peak RSS growth over the start. */
async function measured(fn: () => Promise<unknown>): Promise<{ error: unknown; peakGrowth: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { error, peakGrowth: peak - start };
}

function codeOf(err: unknown): string | undefined {
  return err instanceof WorldloopError ? err.code : undefined;
}

describe('OciClient against a hostile registry', () => {
  it('refuses a 400 MiB chunked manifest at the 4 MiB cap, with bounded memory', async () => {
    const client = new OciClient();
    const { error, peakGrowth } = await measured(() => client.getManifest(`${host}/o/huge`, 'v1'));
    console.log(`huge chunked manifest: peak RSS growth ${(peakGrowth / MiB).toFixed(1)} MiB`);
    expect(codeOf(error)).toBe('ERR_OCI_TOO_LARGE');
    expect((error as WorldloopError).detail).toMatch(/4194304 bytes/);
    expect(peakGrowth).toBeLessThan(64 * MiB);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const served = sent.get('/v2/o/huge/manifests/v1')!;
    console.log(`huge chunked manifest: the server got ${(served / MiB).toFixed(1)} MiB out before the client hung up`);
    expect(served).toBeLessThan(64 * MiB);
  });

  it('refuses a manifest whose Content-Length is over the cap without reading it', async () => {
    const { error, peakGrowth } = await measured(() => new OciClient().getManifest(`${host}/o/declared`, 'v1'));
    expect(codeOf(error)).toBe('ERR_OCI_TOO_LARGE');
    expect(peakGrowth).toBeLessThan(64 * MiB);
  });

  it('refuses a blob longer than its declared size after reading one byte past it', async () => {
    const client = new OciClient();
    const { error, peakGrowth } = await measured(() => client.getBlob(`${host}/o/long`, smallDigest, small.byteLength));
    console.log(`blob 100 MiB longer than declared: peak RSS growth ${(peakGrowth / MiB).toFixed(1)} MiB`);
    expect(codeOf(error)).toBe('ERR_OCI_SIZE_MISMATCH');
    expect((error as WorldloopError).detail).toMatch(/longer than the declared 1024 bytes/);
    expect(peakGrowth).toBeLessThan(64 * MiB);
  });

  it('refuses a blob shorter than its declared size', async () => {
    const err = await new OciClient().getBlob(`${host}/o/short`, smallDigest, small.byteLength).catch((e) => e);
    expect(codeOf(err)).toBe('ERR_OCI_SIZE_MISMATCH');
    expect((err as WorldloopError).detail).toMatch(/512 bytes, declared 1024/);
  });

  it('reads a blob of exactly the declared size, and checks its digest too', async () => {
    const client = new OciClient();
    expect(Buffer.from(await client.getBlob(`${host}/o/exact`, smallDigest, small.byteLength))).toEqual(small);
    // same bytes under another digest: the size matches, the digest does not
    const other = `sha256:${createHash('sha256').update('other').digest('hex')}`;
    const err = await client.getBlob(`${host}/o/exact`, other, small.byteLength).catch((e) => e);
    expect(codeOf(err)).toBe('ERR_OCI');
  });

  it('refuses a declared blob size above what is read into memory, before any request', async () => {
    const err = await new OciClient().getBlob(`${host}/o/exact`, smallDigest, 10 * 1024 * MiB).catch((e) => e);
    expect(codeOf(err)).toBe('ERR_OCI_TOO_LARGE');
  });

  it('checks image configs against the size the manifest declares (pin, build and drift use this path)', async () => {
    const client = new OciClient();
    const idx = await client.getManifest(`${host}/o/platforms`, 'v1');
    const { error, peakGrowth } = await measured(() =>
      assertIndexPlatforms(client, `${host}/o/platforms`, idx, ['amd64']),
    );
    expect(codeOf(error)).toBe('ERR_OCI_SIZE_MISMATCH');
    expect(peakGrowth).toBeLessThan(64 * MiB);
  });

  it('quotes at most a bounded part of a huge error body', async () => {
    const { error, peakGrowth } = await measured(() => new OciClient().getManifest(`${host}/o/error`, 'v1'));
    expect(codeOf(error)).toBe('ERR_OCI');
    expect((error as WorldloopError).detail).toMatch(/HTTP 500/);
    expect(peakGrowth).toBeLessThan(64 * MiB);
  });
});
