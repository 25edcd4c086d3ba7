// The processor bundler: reproducible bytes, nothing machine-specific inside, and a bundle that really
// runs as `node main.js …` (the image's entry point) — exercised here with node on a temp work folder, so
// no Docker is needed.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { blake3 } from '@noble/hashes/blake3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { WorldloopError } from '../../src/contracts/errors';
import { OutputsIndexSchema, ProcessorReceiptSchema } from '../../src/contracts/schemas';
import { bundleProcessor } from '../../src/build/bundle';

const run = promisify(execFile);
const EXEC_ID = '0190a5b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b';
const STATS_ENTRY = join(REPO_ROOT, 'processors/text/stats/1/src/main.ts');
const CHAT_ENTRY = join(REPO_ROOT, 'processors/llm/chat/1/src/main.ts');

let work: string;
let stats: Uint8Array;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wl-bundle-'));
  stats = await bundleProcessor(STATS_ENTRY);
  await writeFile(join(work, 'main.js'), stats);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function runBundle(
  inputs: string,
  mode = 'mock',
  dir = 'out',
): Promise<{ code: number; stderr: string; out: string }> {
  await writeFile(join(work, 'inputs.json'), inputs);
  const out = join(work, dir);
  try {
    const r = await run(
      process.execPath,
      [
        join(work, 'main.js'),
        '--inputs',
        `@${join(work, 'inputs.json')}`,
        '--write-prefix',
        'world://artifacts/outputs/text/stats/r/',
        '--execution-id',
        EXEC_ID,
        '--mode',
        mode,
        '--out',
        out,
      ],
      // An empty environment and a foreign cwd: the bundle must need neither the repository nor node_modules.
      { cwd: work, env: {} },
    );
    return { code: 0, stderr: r.stderr, out };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr, out };
  }
}

describe('bundleProcessor', () => {
  it('is reproducible: the same sources give the same bytes', async () => {
    const again = await bundleProcessor(STATS_ENTRY);
    expect(Buffer.from(again).equals(Buffer.from(stats))).toBe(true);
    const chatA = await bundleProcessor(CHAT_ENTRY);
    const chatB = await bundleProcessor(CHAT_ENTRY);
    expect(Buffer.from(chatA).equals(Buffer.from(chatB))).toBe(true);
    expect(Buffer.from(chatA).equals(Buffer.from(stats))).toBe(false);
  });

  it('gives the same bytes from a copy of the sources at another path (a fresh clone elsewhere)', async () => {
    const clone = await mkdtemp(join(tmpdir(), 'wl-clone-'));
    try {
      for (const item of ['package.json', 'tsconfig.json', 'src', 'processors', 'registry']) {
        await cp(join(REPO_ROOT, item), join(clone, item), { recursive: true });
      }
      // Only what the bundle pulls in, so the copy stays small.
      const packages = [
        'zod',
        'ajv',
        'ajv-formats',
        'fast-uri',
        'json-schema-traverse',
        'fast-deep-equal',
        '@noble/hashes',
        'hash-wasm',
      ];
      for (const pkg of packages) {
        await cp(join(REPO_ROOT, 'node_modules', pkg), join(clone, 'node_modules', pkg), { recursive: true });
      }
      const copy = await bundleProcessor(join(clone, 'processors/text/stats/1/src/main.ts'));
      expect(Buffer.from(copy).equals(Buffer.from(stats))).toBe(true);
    } finally {
      await rm(clone, { recursive: true, force: true });
    }
  });

  it('embeds no absolute path of this machine and no build time', () => {
    const text = Buffer.from(stats).toString('utf8');
    expect(text).not.toContain(REPO_ROOT);
    expect(text).not.toContain(tmpdir());
    expect(text).not.toMatch(/20\d\d-\d\d-\d\dT\d\d:\d\d/);
    expect(text.startsWith('// worldloop processor bundle')).toBe(true);
  });

  it('embeds the input schema from the registry YAML, and not the image pins', () => {
    const text = Buffer.from(stats).toString('utf8');
    expect(text).toContain('// worldloop-registry:text/stats@1\nvar stats_1_default = {\n  "ref": "text/stats@1",');
    expect(text).toContain('"maxLength": 1048576');
    expect(text).not.toMatch(/text-stats@sha256/);
    // The native addon stays external; the hashing module falls back when it is absent.
    expect(text).toContain('@napi-rs/blake-hash');
    expect(text).not.toContain('napi_register_module');
  });

  it('runs as `node main.js` with no node_modules and produces the kit files', async () => {
    const r = await runBundle('{"text":"hello world\\n"}');
    expect(r.code, r.stderr).toBe(0);
    const index = OutputsIndexSchema.parse(JSON.parse(await readFile(join(r.out, 'outputs.json'), 'utf8')));
    expect(index.outputs.map((o) => o.path)).toEqual(['world://artifacts/outputs/text/stats/r/outputs/stats.json']);
    const statsJson = JSON.parse(await readFile(join(r.out, 'outputs/stats.json'), 'utf8')) as Record<string, unknown>;
    expect(statsJson).toEqual({
      schema: 'worldloop.text-stats/v1',
      bytes: 12,
      characters: 12,
      words: 2,
      lines: 1,
      blake3: Buffer.from(blake3(Buffer.from('hello world\n'))).toString('hex'),
    });
    const receipt = ProcessorReceiptSchema.parse(JSON.parse(await readFile(join(r.out, 'receipt.json'), 'utf8')));
    expect(receipt.inputs_hash.value).toBe(
      Buffer.from(blake3(Buffer.from('{"text":"hello world\\n"}'))).toString('hex'),
    );
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual([
      'execution.start',
      'provider.call',
      'provider.response',
      'storage.write',
      'execution.settle',
    ]);
  });

  it('exits 2 with one execution.fail line for inputs the embedded schema refuses', async () => {
    const r = await runBundle('{"text":1}', 'mock', 'out-bad');
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({ event: 'execution.fail', code: 'ERR_INPUTS' });
  });

  it('keeps a catalogue code from the registry when the entry is invalid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wl-bundle-reg-'));
    try {
      await writeFile(join(dir, 'placeholder'), '');
      const err = await bundleProcessor(STATS_ENTRY, { root: REPO_ROOT, registryDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorldloopError);
      expect((err as WorldloopError).code).toBe('ERR_UNKNOWN_PROCESSOR');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
