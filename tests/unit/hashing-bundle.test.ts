// The processor-container situation: src/hashing bundled by esbuild for Node 24 (the images' runtime,
// src/build/node-runtime.ts) with the native addon marked external and absent. The bundle must fall back
// (noble at once, WASM after initBlake3) and still produce the official digests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

it('bundled without @napi-rs/blake-hash, the sync API works on noble, then WASM after initBlake3', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wl-hash-bundle-'));
  await build({
    entryPoints: [join(ROOT, 'src/hashing/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: ['@napi-rs/blake-hash'],
    outfile: join(dir, 'hashing.mjs'),
    logLevel: 'silent',
  });
  writeFileSync(
    join(dir, 'main.mjs'),
    `import * as h from './hashing.mjs';
const input = (n) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const out = { before: h.blake3Backend(), early: h.blake3Hex(input(1025)) };
out.after = await h.initBlake3();
const s = h.createBlake3();
const d = input(102400);
for (let o = 0; o < d.length; o += 4097) s.update(d.subarray(o, o + 4097));
out.streamed = s.digestHex();
out.oneShot = h.blake3Hex(input(1025));
out.inputs = h.inputsHash({ b: [1, 2], a: 'x' });
console.log(JSON.stringify(out));`,
  );
  const out = JSON.parse(execFileSync(process.execPath, [join(dir, 'main.mjs')], { cwd: dir, encoding: 'utf8' })) as {
    before: string;
    early: string;
    after: string;
    streamed: string;
    oneShot: string;
    inputs: { hash_schema: string; value: string };
  };
  const vectors = (
    JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/hashing/blake3/test_vectors.json'), 'utf8')) as {
      cases: { input_len: number; hash: string }[];
    }
  ).cases;
  const want = (n: number): string => vectors.find((v) => v.input_len === n)!.hash.slice(0, 64);
  expect(out.before).toBe('noble');
  expect(out.early).toBe(want(1025));
  expect(out.after).toBe('wasm');
  expect(out.oneShot).toBe(want(1025));
  expect(out.streamed).toBe(want(102400));
  // Independent: python3 -c "import blake3; print(blake3.blake3(b'{\"a\":\"x\",\"b\":[1,2]}').hexdigest())"
  expect(out.inputs).toEqual({
    hash_schema: 'jcs-blake3-v1',
    value: '8b6f3c8bc2104f3e49450175b47c4b9f2bbc9d127e683d66a5aa767995406579',
  });
});
