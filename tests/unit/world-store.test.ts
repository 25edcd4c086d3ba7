import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { blake3Hex } from '../../src/hashing';
import { validateKey, type ContentCheck, type ObjectStore } from '../../src/world/object-store';
import { encodeKeySegment, pathKey, prefixKey } from '../../src/world/store-keys';
import { WorldStore } from '../../src/world/world-store';
import { codeOf } from './helpers/expect-code';
import { backendTitle, storeBackends, type StoreLocation } from './helpers/store-backends';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

for (const backend of storeBackends()) {
  describe.skipIf(backend.missing !== undefined)(backendTitle(backend), () => {
    let loc: StoreLocation;
    let dir: string;
    let objects: ObjectStore;
    let world: WorldStore;

    beforeEach(async () => {
      loc = await backend.create();
      dir = loc.scratch;
      objects = loc.open();
      world = new WorldStore(objects);
    });
    afterEach(async () => {
      await loc.cleanup();
    });

    describe('ObjectStore', () => {
      it('creates once: a second put of the key reports exists and keeps the first bytes', async () => {
        expect(await objects.putIfAbsent('a/b', bytes('one'))).toBe('created');
        expect(await objects.putIfAbsent('a/b', bytes('two'))).toBe('exists');
        expect(text((await objects.get('a/b'))!)).toBe('one');
        expect(await objects.get('a/missing')).toBeUndefined();
        expect(await objects.has('a/b')).toBe(true);
        expect(await objects.has('a')).toBe(false);
      });

      it('exactly one of many concurrent writers of a key wins, and the object is whole', async () => {
        const big = (i: number): Uint8Array => new Uint8Array(256 * 1024).fill(i);
        const results = await Promise.all(Array.from({ length: 16 }, (_, i) => objects.putIfAbsent('race/k', big(i))));
        expect(results.filter((r) => r === 'created')).toHaveLength(1);
        const stored = (await objects.get('race/k'))!;
        expect(stored.byteLength).toBe(256 * 1024);
        expect(new Set(stored).size).toBe(1);
        // No temp files are left behind and none are listed.
        expect(await loc.raw.names('race')).toEqual(['k']);
        expect(await objects.list('race/')).toEqual(['race/k']);
      });

      it('lists keys under a prefix, sorted, at any depth, and only whole keys', async () => {
        for (const k of ['p/b', 'p/a/2', 'p/a/1', 'q/x', 'pz']) await objects.putIfAbsent(k, bytes(k));
        expect(await objects.list('p/')).toEqual(['p/a/1', 'p/a/2', 'p/b']);
        expect(await objects.list('p')).toEqual(['p/a/1', 'p/a/2', 'p/b', 'pz']);
        expect(await objects.list('p/a/')).toEqual(['p/a/1', 'p/a/2']);
        expect(await objects.list('nothing/')).toEqual([]);
      });

      it('streams a file in and refuses to publish when the content check fails', async () => {
        const src = join(dir, 'src.bin');
        await writeFile(src, 'streamed');
        expect(await objects.putFileIfAbsent('f/ok', src)).toBe('created');
        expect(text((await objects.get('f/ok'))!)).toBe('streamed');
        const failing = {
          update: () => undefined,
          finish: () => {
            throw new WorldloopError('ERR_DIGEST_MISMATCH', 'no');
          },
        };
        expect(await codeOf(objects.putFileIfAbsent('f/bad', src, failing))).toBe('ERR_DIGEST_MISMATCH');
        expect(await objects.has('f/bad')).toBe(false);
        expect(await loc.raw.names('f')).toEqual(['ok']);
      });

      it('refuses keys that could escape the root or are not portable', async () => {
        for (const bad of ['', '/abs', 'a/../b', 'a/./b', 'a//b', 'a/b/', 'sp ace', 'a\\b', 'ü', 'x#y']) {
          expect(await codeOf(() => validateKey(bad)), bad).toBe('ERR_INVARIANT');
        }
        expect(await codeOf(objects.putIfAbsent('../up', bytes('x')))).toBe('ERR_INVARIANT');
      });
    });

    describe('WorldStore', () => {
      async function land(path: string, content: string, execution_id = 'exec-1'): Promise<'created' | 'unchanged'> {
        const d = await world.putBlob(bytes(content));
        return world.bind(path, { ...d, mime: 'text/plain', execution_id });
      }

      it('stores blobs by BLAKE3 with SHA-256 beside it', async () => {
        const d = await world.putBlob(bytes('hello'));
        expect(d.blake3).toBe(blake3Hex(bytes('hello')));
        expect(d.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
        expect(d.size_bytes).toBe(5);
        expect(await world.hasBlob(d.blake3)).toBe(true);
        expect(text(await world.readBlob(d.blake3))).toBe('hello');
        expect(await world.hasBlob('0'.repeat(64))).toBe(false);
      });

      it('streams a file into the store with both digests', async () => {
        const src = join(dir, 'big.bin');
        const data = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => i % 251);
        await writeFile(src, data);
        const d = await world.putBlobFromFile(src);
        expect(d.blake3).toBe(blake3Hex(data));
        expect(d.size_bytes).toBe(data.byteLength);
        expect(await world.putBlobFromFile(src)).toEqual(d);
      });

      it('refuses a file that changes between hashing and copying, and publishes nothing', async () => {
        const src = join(dir, 'moving.txt');
        await writeFile(src, 'before');
        const sneaky = Object.assign(Object.create(objects) as ObjectStore, {
          putFileIfAbsent: async (key: string, path: string, check?: ContentCheck) => {
            await appendFile(path, ' and after');
            return objects.putFileIfAbsent(key, path, check);
          },
        });
        expect(await codeOf(new WorldStore(sneaky).putBlobFromFile(src))).toBe('ERR_DIGEST_MISMATCH');
        expect(await objects.list('blobs/')).toEqual([]);
      });

      it('binds a path once: same digest is unchanged, different digest is ERR_WORLD_CONFLICT', async () => {
        expect(await land('world://artifacts/out/a.txt', 'A')).toBe('created');
        expect(await land('/artifacts/out/a.txt', 'A', 'exec-2')).toBe('unchanged');
        expect(await codeOf(land('world://artifacts/out/a.txt', 'B'))).toBe('ERR_WORLD_CONFLICT');
        const entry = await world.stat('world://artifacts/out/a.txt');
        expect(entry).toMatchObject({ path: 'world://artifacts/out/a.txt', execution_id: 'exec-1', size_bytes: 1 });
        expect(text(await world.readBytes('world://artifacts/out/a.txt'))).toBe('A');
      });

      it('concurrent binds of one path with different bytes: exactly one wins', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => land('world://artifacts/race/x', `v${i}`, `e${i}`)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as WorldloopError).code).toBe('ERR_WORLD_CONFLICT');
        }
      });

      it('refuses to bind a blob that is not stored, and canonicalises and validates paths', async () => {
        const missing = { blake3: 'a'.repeat(64), sha256: 'b'.repeat(64), size_bytes: 1, mime: 'x', execution_id: 'e' };
        expect(await codeOf(world.bind('world://artifacts/x', missing))).toBe('ERR_NOT_FOUND');
        expect(await codeOf(land('world://artifacts/a/../b', 'x'))).toBe('ERR_DOT_SEGMENTS');
        expect(await codeOf(land('world://artifacts/dir/', 'x'))).toBe('ERR_SELECTOR_KIND_MISMATCH');
        expect(await land('world://artifacts/%C3%BC/A%2541', 'x')).toBe('created');
        expect(await world.stat('world://artifacts/ü/A%2541')).toMatchObject({ path: 'world://artifacts/ü/A%2541' });
      });

      it('binds the longest canonical path of the most expensive characters', async () => {
        // 15 segments of 33 × "é" (66 bytes, 198 encoded characters each): about 1,000 canonical bytes.
        const seg = 'é'.repeat(33);
        const path = `world://artifacts/${Array(15).fill(seg).join('/')}`;
        expect(new TextEncoder().encode(path).byteLength).toBeLessThanOrEqual(1024);
        expect(await land(path, 'deep')).toBe('created');
        expect(text(await world.readBytes(path))).toBe('deep');
        expect((await world.list(`world://artifacts/${seg}/`)).map((e) => e.path)).toEqual([path]);
      });

      it('an exact path and paths below it coexist', async () => {
        await land('world://artifacts/n', 'file');
        await land('world://artifacts/n/child', 'child');
        expect(text(await world.readBytes('world://artifacts/n'))).toBe('file');
        expect((await world.list('world://artifacts/n/')).map((e) => e.path)).toEqual(['world://artifacts/n/child']);
      });

      it('lists a prefix sorted by canonical path, not by key encoding', async () => {
        for (const p of ['b', 'a', 'Z', 'ü', 'sub/deep/x', 'a b']) await land(`world://artifacts/l/${p}`, p);
        await land('world://artifacts/other/y', 'y');
        const paths = (await world.list('world://artifacts/l/')).map((e) => e.path);
        expect(paths).toEqual(['Z', 'a', 'a b', 'b', 'sub/deep/x', 'ü'].map((p) => `world://artifacts/l/${p}`));
        expect(await world.list('world://artifacts/empty/')).toEqual([]);
        expect(await codeOf(world.list('world://artifacts/l'))).toBe('ERR_SELECTOR_KIND_MISMATCH');
      });

      it('detects a blob that rotted on disk: ERR_DIGEST_MISMATCH on read and on copy', async () => {
        await land('world://artifacts/rot', 'original');
        const entry = (await world.stat('world://artifacts/rot'))!;
        const blob = `blobs/blake3/${entry.blake3}`;
        await loc.raw.write(blob, new Uint8Array([...(await loc.raw.read(blob)), 0x21]));
        expect(await codeOf(world.readBytes('world://artifacts/rot'))).toBe('ERR_DIGEST_MISMATCH');
        const dest = join(dir, 'out.txt');
        expect(await codeOf(world.copyTo('world://artifacts/rot', dest))).toBe('ERR_DIGEST_MISMATCH');
        await expect(stat(dest)).rejects.toThrow();
        expect((await readdir(dir)).filter((name) => name !== 'store')).toEqual([]);
      });

      it('copies verified bytes to a file, refusing to overwrite unless asked', async () => {
        await land('world://artifacts/c', 'copy me');
        const dest = join(dir, 'c.txt');
        await world.copyTo('world://artifacts/c', dest);
        expect(await readFile(dest, 'utf8')).toBe('copy me');
        expect(await codeOf(world.copyTo('world://artifacts/c', dest))).toBe('ERR_USAGE');
        await writeFile(dest, 'other');
        await world.copyTo('world://artifacts/c', dest, { overwrite: true });
        expect(await readFile(dest, 'utf8')).toBe('copy me');
        expect(await codeOf(world.copyTo('world://artifacts/none', dest))).toBe('ERR_NOT_FOUND');
      });

      it('quarantines with an append-only marker and leaves the entry untouched', async () => {
        await land('world://artifacts/q/a', 'a');
        await land('world://artifacts/q/b', 'b');
        const before = await world.stat('world://artifacts/q/a');
        expect(
          await world.quarantine('world://artifacts/q/a', { execution_id: 'e1', reason: 'predicate failed' }),
        ).toBe('created');
        expect(await world.quarantine('world://artifacts/q/a', { execution_id: 'e2', reason: 'again' })).toBe('exists');
        expect(await world.isQuarantined('world://artifacts/q/a')).toBe(true);
        expect(await world.isQuarantined('world://artifacts/q/b')).toBe(false);
        expect(await world.quarantineMarker('world://artifacts/q/a')).toMatchObject({ execution_id: 'e1' });
        expect(await world.stat('world://artifacts/q/a')).toEqual(before);
        expect(text(await world.readBytes('world://artifacts/q/a'))).toBe('a');
        expect([...(await world.quarantinedUnder('world://artifacts/q/'))]).toEqual(['world://artifacts/q/a']);
        expect(await codeOf(world.quarantine('world://artifacts/q/none', { execution_id: 'e', reason: 'r' }))).toBe(
          'ERR_NOT_FOUND',
        );
      });

      it('stores JSON records create-only, outside the reserved namespaces', async () => {
        const rec = { execution_id: 'e1', outputs_index_path: 'world://artifacts/x/outputs.json', outputs: [] };
        expect(await world.putJsonIfAbsent('cache/abc', rec)).toBe('created');
        expect(await world.putJsonIfAbsent('cache/abc', { other: true })).toBe('exists');
        expect(await world.getJson('cache/abc')).toEqual(rec);
        expect(await world.getJson('cache/none')).toBeUndefined();
        expect(await codeOf(world.putJsonIfAbsent('plans/x/events/000000000001', {}))).toBe('ERR_INVARIANT');
        expect(await codeOf(world.putJsonIfAbsent('index/artifacts/x@', {}))).toBe('ERR_INVARIANT');
      });
    });
  });
}

describe('store keys', () => {
  it('encode world segments into a portable alphabet, injectively even under case folding', () => {
    expect(encodeKeySegment('a b')).toBe('a%20b');
    expect(encodeKeySegment('A')).toBe('%41');
    expect(encodeKeySegment('ü')).toBe('%C3%BC');
    expect(encodeKeySegment('%25')).toBe('%2525');
    expect(encodeKeySegment('x@~')).toBe('x%40%7E');
    const long = 'é'.repeat(100);
    expect(encodeKeySegment(long)).toMatch(/^~[0-9a-f]{64}$/);
    expect(pathKey('index/', 'world://artifacts/a/b.txt')).toBe('index/artifacts/a/b.txt@');
    expect(prefixKey('index/', 'world://artifacts/a/')).toBe('index/artifacts/a/');
    for (const seg of ['a b', 'A', 'ü', '%25', long]) expect(() => validateKey(encodeKeySegment(seg))).not.toThrow();
  });
});
