// The official BLAKE3 test vectors against every backend, one-shot and streaming with awkward chunk
// sizes, plus the file helpers against node:crypto and an independently computed digest.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BLAKE3_BACKENDS,
  blake3Backend,
  blake3BackendByName,
  blake3File,
  blake3Hex,
  createBlake3,
  createSha256,
  hashFile,
  initBlake3,
} from '../../src/hashing/blake3';

interface Vector {
  input_len: number;
  hash: string;
}
const vectors = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/hashing/blake3/test_vectors.json'), 'utf8')) as {
    cases: Vector[];
  }
).cases;

const input = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 251);
const CHUNK_SIZES = [1, 3, 63, 64, 65, 1023, 1024, 1025, 4097];

it('the fixture holds all 22 official cases', () => {
  expect(vectors.map((v) => v.input_len)).toEqual([
    0, 1, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097, 5120, 5121, 6144, 6145, 7168, 7169, 8192, 8193, 16384,
    31744, 102400,
  ]);
});

describe.each(BLAKE3_BACKENDS)('backend %s', (name) => {
  let backend: Awaited<ReturnType<typeof blake3BackendByName>>;
  beforeAll(async () => {
    backend = await blake3BackendByName(name);
  });

  it('loads on this machine', () => {
    // napi ships linux-x64-gnu here; wasm and noble are portable.
    expect(backend).toBeDefined();
  });

  it.each(vectors)('one-shot, $input_len bytes', ({ input_len, hash }) => {
    expect(backend!.oneShot(input(input_len))).toBe(hash.slice(0, 64));
  });

  it.each(vectors)('streaming in odd chunks, $input_len bytes', ({ input_len, hash }) => {
    const data = input(input_len);
    for (const size of CHUNK_SIZES) {
      const h = backend!.streaming();
      for (let off = 0; off < data.length; off += size) h.update(data.subarray(off, off + size));
      expect(h.digestHex(), `chunk size ${size}`).toBe(hash.slice(0, 64));
    }
  });

  it('keeps interleaved streams apart', () => {
    const a = backend!.streaming();
    const b = backend!.streaming();
    const data = input(102400);
    for (let off = 0; off < data.length; off += 1000) {
      a.update(data.subarray(off, off + 1000));
      b.update(data.subarray(off, off + 500));
      backend!.oneShot(input(7)); // a one-shot in between must not disturb either stream
    }
    expect(a.digestHex()).toBe(vectors.at(-1)!.hash.slice(0, 64));
    expect(b.digestHex()).toBe(backend!.oneShot(Uint8Array.from(data.filter((_, i) => i % 1000 < 500))));
  });
});

describe('public API', () => {
  it('hashes strings as UTF-8 and agrees with the byte form', async () => {
    await initBlake3();
    expect(blake3Hex('')).toBe(vectors[0]!.hash.slice(0, 64));
    expect(blake3Hex('é😀')).toBe(blake3Hex(new TextEncoder().encode('é😀')));
  });

  it('uses the native backend on this machine', async () => {
    expect(await initBlake3()).toBe('napi');
    expect(blake3Backend()).toBe('napi');
  });

  it('createBlake3 and createSha256 stream', () => {
    const b = createBlake3();
    const s = createSha256();
    const data = input(8193);
    for (let off = 0; off < data.length; off += 1000) {
      b.update(data.subarray(off, off + 1000));
      s.update(data.subarray(off, off + 1000));
    }
    expect(b.digestHex()).toBe(vectors.find((v) => v.input_len === 8193)!.hash.slice(0, 64));
    expect(s.digestHex()).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('hashFile reads once and gives both digests and the size; blake3File agrees', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wl-hash-'));
    const path = join(dir, 'blob.bin');
    // 3 MiB + 7 bytes: several read chunks and a ragged tail.
    const data = Uint8Array.from({ length: 3 * 1024 * 1024 + 7 }, (_, i) => (i * 31) % 256);
    writeFileSync(path, data);
    const got = await hashFile(path);
    expect(got.size_bytes).toBe(data.length);
    expect(got.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(got.blake3).toBe(blake3Hex(data));
    expect(await blake3File(path)).toBe(got.blake3);
    // Independent value: python3 -c "import blake3; print(blake3.blake3(bytes((i*31)%256 for i in range(3*1024*1024+7))).hexdigest())"
    expect(got.blake3).toBe(GOLDEN_3MIB);
  });

  it('hashFile of an empty file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wl-hash-'));
    const path = join(dir, 'empty');
    writeFileSync(path, '');
    expect(await hashFile(path)).toEqual({
      blake3: vectors[0]!.hash.slice(0, 64),
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      size_bytes: 0,
    });
  });

  it('a missing file rejects with ENOENT', async () => {
    await expect(hashFile('/nonexistent/worldloop-hash-test')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

// Computed with Python blake3 (PyPI) by the command quoted in the test above.
const GOLDEN_3MIB = 'f84ca1261c5acd90c94f11d8d5c622599be792bef08daac998fcad719194b6c2';
