// A small client for the OCI distribution API (https://github.com/opencontainers/distribution-spec), over
// the global fetch. We keep our own rather than a library because we need only eight calls, we want every
// digest verified on our side (a registry that rewrites a manifest must not slip through), and no npm
// package we could vet fitted Node 20 without native or install-time code.
//
// Auth: anonymous, HTTP basic, and the Docker/OCI bearer-token challenge (401 + WWW-Authenticate: Bearer
// realm=…,service=…,scope=…); where credentials may go is decided in auth.ts. Every response body is read
// with a bound (bounded-body.ts): manifests 4 MiB, blobs exactly their declared size.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { isRegistryOrigin, parseChallenge, registryOrigin, tokenRealmUrl } from './auth';
import { READ_LIMITS, readBlobExactly, readBounded, readPrefix } from './bounded-body';
import { type RegistryImageRef, TAG_RE, isDigest, parseRepository, sha256Digest } from './image-ref';
import { MANIFEST_MEDIA_TYPES } from './media-types';

export interface Manifest {
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Uint8Array;
  readonly json: Record<string, unknown>;
}

export interface OciClientOptions {
  /** Basic credentials per registry host, used directly or to fetch a bearer token. */
  readonly credentials?: (registry: string) => { username: string; password: string } | undefined;
  /** Blobs larger than this are uploaded in chunks (PATCH) instead of one PUT. */
  readonly chunkThreshold?: number;
  readonly chunkSize?: number;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

type Body = Uint8Array | undefined;

export class OciClient {
  private readonly tokens = new Map<string, string>();
  private readonly fetchFn: typeof fetch;
  private readonly chunkThreshold: number;
  private readonly chunkSize: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: OciClientOptions = {}) {
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.chunkThreshold = options.chunkThreshold ?? 64 * 1024 * 1024;
    this.chunkSize = options.chunkSize ?? 16 * 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 300_000;
  }

  /** Reads a manifest or index by tag or digest, accepting both OCI and Docker media types; verifies the digest. */
  async getManifest(repository: string, reference: string): Promise<Manifest> {
    const repo = parseRepository(repository);
    checkReference(reference);
    const res = await this.request(repo, 'GET', `manifests/${reference}`, {
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
    });
    await expectStatus(res, [200], `GET manifest ${repository}:${reference}`);
    const bytes = await readBounded(res, READ_LIMITS.manifestBytes, `manifest ${repository}:${reference}`);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && digest !== reference) {
      throw new WorldloopError('ERR_OCI', `registry returned a manifest with digest ${digest} for ${reference}`);
    }
    const headerDigest = res.headers.get('docker-content-digest');
    if (headerDigest && headerDigest !== digest) {
      throw new WorldloopError(
        'ERR_OCI',
        `manifest ${repository}:${reference}: Docker-Content-Digest ${headerDigest} does not match the body's ${digest}`,
      );
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    } catch {
      throw new WorldloopError('ERR_OCI', `manifest ${repository}:${reference} is not JSON`);
    }
    const contentType = res.headers.get('content-type')?.split(';')[0]?.trim();
    const mediaType = typeof json.mediaType === 'string' ? json.mediaType : (contentType ?? '');
    return { mediaType, digest, bytes, json };
  }

  /** The digest a tag or digest resolves to, or undefined when the registry has no such manifest. */
  async headManifest(repository: string, reference: string): Promise<string | undefined> {
    const repo = parseRepository(repository);
    checkReference(reference);
    const res = await this.request(repo, 'HEAD', `manifests/${reference}`, {
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
    });
    if (res.status === 404) return undefined;
    await expectStatus(res, [200], `HEAD manifest ${repository}:${reference}`);
    const digest = res.headers.get('docker-content-digest');
    if (digest && isDigest(digest)) return digest;
    // Some registries omit the header on HEAD; the body's hash is authoritative anyway.
    return (await this.getManifest(repository, reference)).digest;
  }

  /** Uploads a manifest or index under a tag or its digest and checks the registry agrees on the digest. */
  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const repo = parseRepository(repository);
    checkReference(reference);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw new WorldloopError('ERR_OCI', `manifest bytes hash to ${digest}, not ${reference}`);
    }
    const res = await this.request(repo, 'PUT', `manifests/${reference}`, {
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    await expectStatus(res, [201, 200], `PUT manifest ${repository}:${reference}`);
    const returned = res.headers.get('docker-content-digest');
    if (returned && returned !== digest) {
      throw new WorldloopError('ERR_OCI', `registry stored the manifest as ${returned}, we computed ${digest}`);
    }
    return digest;
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    const repo = parseRepository(repository);
    checkDigest(digest);
    const res = await this.request(repo, 'HEAD', `blobs/${digest}`);
    if (res.status === 404) return false;
    await expectStatus(res, [200], `HEAD blob ${repository}@${digest}`);
    return true;
  }

  /**
   * Uploads a blob unless the repository already has it. Small blobs go in one POST+PUT; larger ones in
   * chunks, so a 100 MB layer is never one request body.
   */
  async pushBlob(
    repository: string,
    source: Uint8Array | { file: string },
    digest: string,
  ): Promise<{ digest: string; size: number; uploaded: boolean }> {
    const repo = parseRepository(repository);
    checkDigest(digest);
    const size = source instanceof Uint8Array ? source.byteLength : (await stat(source.file)).size;
    if (await this.blobExists(repository, digest)) return { digest, size, uploaded: false };
    if (source instanceof Uint8Array && sha256Digest(source) !== digest) {
      throw new WorldloopError('ERR_OCI', `blob bytes do not hash to ${digest}`);
    }
    const start = await this.request(repo, 'POST', 'blobs/uploads/', { headers: { 'content-length': '0' } });
    await expectStatus(start, [202], `start upload to ${repository}`);
    let location = this.resolveLocation(repo, start);
    if (size <= this.chunkThreshold) {
      const bytes = source instanceof Uint8Array ? source : await readAll(source.file);
      const put = await this.requestUrl(repo, 'PUT', withDigest(location, digest), {
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      await expectStatus(put, [201], `upload blob ${digest} to ${repository}`);
    } else {
      const hash = createHash('sha256');
      let offset = 0;
      for await (const chunk of chunks(source, this.chunkSize)) {
        hash.update(chunk);
        const patch = await this.requestUrl(repo, 'PATCH', location, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${offset}-${offset + chunk.byteLength - 1}`,
          },
          body: chunk,
        });
        await expectStatus(patch, [202], `upload chunk at ${offset} of ${digest} to ${repository}`);
        location = this.resolveLocation(repo, patch);
        offset += chunk.byteLength;
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest) throw new WorldloopError('ERR_OCI', `blob content hashes to ${actual}, not ${digest}`);
      const put = await this.requestUrl(repo, 'PUT', withDigest(location, digest), {
        headers: { 'content-length': '0' },
      });
      await expectStatus(put, [201], `finish upload of ${digest} to ${repository}`);
    }
    return { digest, size, uploaded: true };
  }

  /**
   * Downloads a blob into memory and verifies it against its descriptor: exactly `size` bytes (longer or
   * shorter → ERR_OCI_SIZE_MISMATCH, nothing read past size + 1) hashing to `digest`.
   */
  async getBlob(repository: string, digest: string, size: number): Promise<Uint8Array> {
    const repo = parseRepository(repository);
    checkDigest(digest);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new WorldloopError('ERR_OCI', `blob ${digest}: declared size ${String(size)} is not a byte count`);
    }
    if (size > READ_LIMITS.blobInMemoryBytes) {
      throw new WorldloopError(
        'ERR_OCI_TOO_LARGE',
        `blob ${repository}@${digest} declares ${size} bytes; worldloop reads at most ${READ_LIMITS.blobInMemoryBytes} bytes of a blob into memory`,
      );
    }
    const res = await this.request(repo, 'GET', `blobs/${digest}`);
    await expectStatus(res, [200], `GET blob ${repository}@${digest}`);
    return readBlobExactly(res, digest, size, `blob ${repository}@${digest}`);
  }

  /** All tags of a repository (follows Link pagination); empty when the repository does not exist. */
  async listTags(repository: string): Promise<string[]> {
    const repo = parseRepository(repository);
    const tags: string[] = [];
    let next: string | undefined = `${this.base(repo)}/tags/list?n=1000`;
    const visited = new Set<string>();
    while (next) {
      // a registry that links back to a page already read would loop forever
      if (visited.has(next)) throw new WorldloopError('ERR_OCI', `tag list of ${repository} links back to ${next}`);
      visited.add(next);
      const res = await this.requestUrl(repo, 'GET', next);
      if (res.status === 404) return tags;
      await expectStatus(res, [200], `list tags of ${repository}`);
      const body = parseJson<{ tags?: string[] | null }>(
        await readBounded(res, READ_LIMITS.tagsPageBytes, `tag list of ${repository}`),
        `tag list of ${repository}`,
      );
      tags.push(...(body.tags ?? []));
      const link = res.headers.get('link');
      const m = link ? /<([^>]+)>;\s*rel="next"/.exec(link) : null;
      next = m ? new URL(m[1]!, this.origin(repo)).toString() : undefined;
    }
    return tags.sort();
  }

  // ------------------------------------------------------------------------------------------ plumbing

  private origin(repo: RegistryImageRef): string {
    return registryOrigin(repo.registry);
  }

  private base(repo: RegistryImageRef): string {
    return `${this.origin(repo)}/v2/${repo.path}`;
  }

  private resolveLocation(repo: RegistryImageRef, res: Response): string {
    const location = res.headers.get('location');
    if (!location) throw new WorldloopError('ERR_OCI', `registry ${repo.registry} sent no upload Location`);
    return new URL(location, this.origin(repo)).toString();
  }

  private request(
    repo: RegistryImageRef,
    method: string,
    suffix: string,
    init: { headers?: Record<string, string>; body?: Body } = {},
  ): Promise<Response> {
    return this.requestUrl(repo, method, `${this.base(repo)}/${suffix}`, init);
  }

  private async requestUrl(
    repo: RegistryImageRef,
    method: string,
    url: string,
    init: { headers?: Record<string, string>; body?: Body } = {},
  ): Promise<Response> {
    // Credentials (and answers to a 401) only for the registry's own origin: a Link or Location may name
    // another host, which gets the request without them.
    const own = isRegistryOrigin(url, repo.registry);
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = { ...init.headers };
      const auth = own ? this.authorization(repo) : undefined;
      if (auth) headers.authorization = auth;
      try {
        return await this.fetchFn(url, {
          method,
          headers,
          body: init.body,
          redirect: 'follow',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        throw new WorldloopError('ERR_OCI', `${method} ${url}: ${(err as Error).message}`, { cause: err });
      }
    };
    let res = await send();
    if (res.status === 401 && own && (await this.authenticate(repo, res))) res = await send();
    return res;
  }

  private authorization(repo: RegistryImageRef): string | undefined {
    const token = this.tokens.get(repo.registry);
    if (token) return token;
    return undefined;
  }

  /** Answers a 401 challenge; true when there is something new to retry with. */
  private async authenticate(repo: RegistryImageRef, res: Response): Promise<boolean> {
    const header = res.headers.get('www-authenticate');
    await res.body?.cancel();
    if (!header) return false;
    const { scheme, params } = parseChallenge(header);
    const creds = this.options.credentials?.(repo.registry);
    const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
    if (scheme === 'basic') {
      if (!basic || this.tokens.get(repo.registry) === basic) return false;
      this.tokens.set(repo.registry, basic);
      return true;
    }
    if (scheme !== 'bearer' || !params.realm) return false;
    const url = tokenRealmUrl(params.realm, repo.registry);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${repo.path}:pull,push`);
    let tokenRes: Response;
    try {
      tokenRes = await this.fetchFn(url, {
        headers: basic ? { authorization: basic } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new WorldloopError('ERR_OCI', `token from ${url.origin}: ${(err as Error).message}`, { cause: err });
    }
    await expectStatus(tokenRes, [200], `token from ${url.origin}`);
    const body = parseJson<{ token?: string; access_token?: string }>(
      await readBounded(tokenRes, READ_LIMITS.tokenBytes, `token from ${url.origin}`),
      `token from ${url.origin}`,
    );
    const token = body.token ?? body.access_token;
    if (!token) throw new WorldloopError('ERR_OCI', `token endpoint ${url.origin} returned no token`);
    const value = `Bearer ${token}`;
    if (this.tokens.get(repo.registry) === value) return false;
    this.tokens.set(repo.registry, value);
    return true;
  }
}

function checkDigest(digest: string): void {
  if (!isDigest(digest)) throw new WorldloopError('ERR_OCI', `bad digest ${JSON.stringify(digest)}`);
}

function checkReference(reference: string): void {
  if (!isDigest(reference) && !TAG_RE.test(reference)) {
    throw new WorldloopError('ERR_OCI', `bad tag or digest ${JSON.stringify(reference)}`);
  }
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new WorldloopError('ERR_OCI', `${what} is not JSON`);
  }
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

async function expectStatus(res: Response, ok: number[], what: string): Promise<void> {
  if (ok.includes(res.status)) return;
  let message = '';
  try {
    // bounded: a hostile registry's error body is quoted, never read whole
    const text = new TextDecoder().decode(await readPrefix(res, READ_LIMITS.errorBodyBytes));
    try {
      const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      message = (body.errors ?? []).map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ');
    } catch {
      message = text.slice(0, 200);
    }
  } catch {
    // the status alone has to do
  }
  throw new WorldloopError('ERR_OCI', `${what}: HTTP ${res.status}${message ? ` (${message})` : ''}`);
}

async function readAll(file: string): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of createReadStream(file)) parts.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}

async function* chunks(source: Uint8Array | { file: string }, size: number): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    for (let i = 0; i < source.byteLength; i += size) yield source.subarray(i, Math.min(i + size, source.byteLength));
    return;
  }
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of createReadStream(source.file, { highWaterMark: 1024 * 1024 })) {
    pending.push(chunk as Buffer);
    pendingBytes += (chunk as Buffer).byteLength;
    if (pendingBytes >= size) {
      yield new Uint8Array(Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) yield new Uint8Array(Buffer.concat(pending));
}

/** The OCI client every command and the worker use; credentials (WORLDLOOP_OCI_USERNAME/PASSWORD) go to their host only. */
export function ociClientFromConfig(cfg: Pick<Config, 'ociAuth'>): OciClient {
  const auth = cfg.ociAuth;
  return new OciClient({
    credentials: (registry) =>
      auth && registry === auth.host ? { username: auth.username, password: auth.password } : undefined,
  });
}
