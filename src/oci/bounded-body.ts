// Reading registry responses with bounds (issue 14, item 6). A registry is a remote party: a "manifest" of
// 400 MB once cost the CLI 1.7 GB of memory because bodies were read whole. Here every body is read chunk by
// chunk and reading stops at a limit; Content-Length is used to refuse early, never trusted to be the truth
// (a chunked response has none, and a proxy may have decompressed the body).
import { createHash } from 'node:crypto';
import { WorldloopError } from '../contracts/errors';

const KiB = 1024;
const MiB = 1024 * KiB;

export const READ_LIMITS = {
  /** The OCI distribution spec asks registries to accept manifests of at least 4 MiB; none need more. */
  manifestBytes: 4 * MiB,
  /** getBlob returns the bytes; blobs it reads are image configs (kilobytes), so this is generous. */
  blobInMemoryBytes: 64 * MiB,
  /** one page of a tag list */
  tagsPageBytes: 4 * MiB,
  /** a token endpoint's JSON answer (a JWT is a few kilobytes) */
  tokenBytes: 1 * MiB,
  /** how much of an error body is read to quote it */
  errorBodyBytes: 64 * KiB,
} as const;

/** The declared body length, when the header is present and describes the bytes we will read. */
function declaredLength(res: Response): number | undefined {
  const encoding = res.headers.get('content-encoding');
  // fetch decodes compressed bodies, so the header then counts other bytes than ours
  if (encoding && encoding.toLowerCase() !== 'identity') return undefined;
  const value = res.headers.get('content-length');
  if (value === null || !/^[0-9]+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/**
 * Feeds the body to `onChunk` until it ends or `onChunk` returns false or throws; a body not read to its end
 * is cancelled, which closes the connection instead of draining it.
 */
async function consume(res: Response, what: string, onChunk: (chunk: Uint8Array) => boolean): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let ended = false;
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (err) {
        throw new WorldloopError('ERR_OCI', `${what}: the response broke off (${(err as Error).message})`, {
          cause: err,
        });
      }
      if (step.done) {
        ended = true;
        return;
      }
      if (!onChunk(step.value)) return;
    }
  } finally {
    if (!ended) await reader.cancel().catch(() => undefined);
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** The whole body, refused with ERR_OCI_TOO_LARGE (and no longer read) once it passes `limit` bytes. */
export async function readBounded(res: Response, limit: number, what: string): Promise<Uint8Array> {
  const declared = declaredLength(res);
  if (declared !== undefined && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new WorldloopError(
      'ERR_OCI_TOO_LARGE',
      `${what}: the registry declares ${declared} bytes; worldloop reads at most ${limit} bytes`,
    );
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  await consume(res, what, (chunk) => {
    total += chunk.byteLength;
    if (total > limit) {
      throw new WorldloopError('ERR_OCI_TOO_LARGE', `${what}: longer than ${limit} bytes; reading stopped there`);
    }
    parts.push(chunk);
    return true;
  });
  return concat(parts, total);
}

/** At most `limit` bytes of the body, the rest discarded unread; never fails (for quoting an error body). */
export async function readPrefix(res: Response, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    await consume(res, 'error body', (chunk) => {
      const take = chunk.subarray(0, Math.max(0, limit - total));
      parts.push(take);
      total += take.byteLength;
      return total < limit;
    });
  } catch {
    // what arrived before the break is all there is to quote
  }
  return concat(parts, total);
}

/**
 * A blob body that must be exactly `size` bytes (its descriptor's size) and hash to `digest`. Longer or
 * shorter → ERR_OCI_SIZE_MISMATCH, and a longer one is not read past `size + 1` bytes; the right size with
 * other content → ERR_OCI. Memory: `size` bytes, whatever the registry sends.
 */
export async function readBlobExactly(res: Response, digest: string, size: number, what: string): Promise<Uint8Array> {
  const mismatch = (detail: string): WorldloopError =>
    new WorldloopError('ERR_OCI_SIZE_MISMATCH', `${what}: ${detail}`);
  const declared = declaredLength(res);
  if (declared !== undefined && declared !== size) {
    await res.body?.cancel().catch(() => undefined);
    throw mismatch(`Content-Length ${declared} bytes, declared ${size}`);
  }
  const out = new Uint8Array(size);
  const hash = createHash('sha256');
  let total = 0;
  await consume(res, what, (chunk) => {
    if (total + chunk.byteLength > size) throw mismatch(`longer than the declared ${size} bytes`);
    out.set(chunk, total);
    hash.update(chunk);
    total += chunk.byteLength;
    return true;
  });
  if (total < size) throw mismatch(`${total} bytes, declared ${size}`);
  if (`sha256:${hash.digest('hex')}` !== digest) {
    throw new WorldloopError('ERR_OCI', `${what}: blob ${digest} failed verification`);
  }
  return out;
}
