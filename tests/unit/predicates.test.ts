// Predicates evaluated for real against a world store on disk: each kind holds, fails with what it
// observed, and resolves relative paths under the run's write prefix.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Predicate } from '../../src/contracts';
import { LocalObjectStore } from '../../src/world/local-object-store';
import { evaluatePredicates, resolvePointer, resolvePredicatePath } from '../../src/world/predicates';
import { WorldStore } from '../../src/world/world-store';

const prefix = 'world://artifacts/outputs/test/p/0190/';
const stats = `${prefix}outputs/stats.json`;
let world: WorldStore;

beforeAll(async () => {
  world = new WorldStore(new LocalObjectStore(mkdtempSync(join(tmpdir(), 'wl-pred-'))));
  const put = async (path: string, text: string, mime: string) => {
    const blob = await world.putBlob(new TextEncoder().encode(text));
    await world.bind(path, { ...blob, mime, execution_id: 'e-1' });
  };
  await put(stats, JSON.stringify({ words: 3, tags: ['a', 'b/c'], 'x/y': { '~z': true } }), 'application/json');
  await put(`${prefix}outputs/notes.txt`, 'not json', 'text/plain');
});

async function observe(p: Predicate, outputs: string[] = [stats]): Promise<string | undefined> {
  const failures = await evaluatePredicates(world, [p], { write_prefix: prefix, outputs });
  return failures[0]?.observed;
}

describe('evaluatePredicates', () => {
  it('artifact.exists: relative and absolute paths', async () => {
    expect(await observe({ kind: 'artifact.exists', path: 'outputs/stats.json' })).toBeUndefined();
    expect(await observe({ kind: 'artifact.exists', path: stats })).toBeUndefined();
    expect(await observe({ kind: 'artifact.exists', path: 'outputs/missing.json' })).toBe(
      `${prefix}outputs/missing.json does not exist`,
    );
  });

  it('file.size_lte: at the limit holds, below it fails with the size', async () => {
    const size = (await world.stat(stats))!.size_bytes;
    expect(await observe({ kind: 'file.size_lte', path: 'outputs/stats.json', bytes: size })).toBeUndefined();
    expect(await observe({ kind: 'file.size_lte', path: 'outputs/stats.json', bytes: size - 1 })).toBe(
      `${stats} is ${size} bytes, limit ${size - 1}`,
    );
  });

  it('json.schema_ok: valid, invalid, and not JSON at all', async () => {
    const schema = { type: 'object', required: ['words'], properties: { words: { type: 'integer' } } };
    expect(await observe({ kind: 'json.schema_ok', path: 'outputs/stats.json', schema })).toBeUndefined();
    expect(
      await observe({ kind: 'json.schema_ok', path: 'outputs/stats.json', schema: { ...schema, required: ['lines'] } }),
    ).toMatch(/must have required property 'lines'/);
    expect(await observe({ kind: 'json.schema_ok', path: 'outputs/notes.txt', schema })).toBe(
      `${prefix}outputs/notes.txt is not JSON`,
    );
  });

  it('json.path_equals: RFC 6901 pointers with escapes, deep equality, missing pointers', async () => {
    expect(
      await observe({ kind: 'json.path_equals', path: 'outputs/stats.json', pointer: '/words', value: 3 }),
    ).toBeUndefined();
    expect(
      await observe({ kind: 'json.path_equals', path: 'outputs/stats.json', pointer: '/tags', value: ['a', 'b/c'] }),
    ).toBeUndefined();
    expect(
      await observe({ kind: 'json.path_equals', path: 'outputs/stats.json', pointer: '/x~1y/~0z', value: true }),
    ).toBeUndefined();
    expect(await observe({ kind: 'json.path_equals', path: 'outputs/stats.json', pointer: '/words', value: 4 })).toBe(
      `${stats}#/words is 3, expected 4`,
    );
    expect(
      await observe({ kind: 'json.path_equals', path: 'outputs/stats.json', pointer: '/tags/2', value: 'x' }),
    ).toBe(`${stats}#/tags/2 does not exist`);
  });

  it('outputs.count_between counts the run’s outputs, bounds inclusive', async () => {
    expect(await observe({ kind: 'outputs.count_between', min: 1, max: 1 })).toBeUndefined();
    expect(await observe({ kind: 'outputs.count_between', min: 2, max: 5 })).toBe(
      '1 outputs, expected between 2 and 5',
    );
    expect(await observe({ kind: 'outputs.count_between', min: 0, max: 0 }, [])).toBeUndefined();
  });

  it('returns every failure, in order', async () => {
    const failures = await evaluatePredicates(
      world,
      [
        { kind: 'artifact.exists', path: 'outputs/a' },
        { kind: 'outputs.count_between', min: 0, max: 9 },
        { kind: 'artifact.exists', path: 'outputs/b' },
      ],
      { write_prefix: prefix, outputs: [] },
    );
    expect(failures.map((f) => f.predicate)).toEqual([
      { kind: 'artifact.exists', path: 'outputs/a' },
      { kind: 'artifact.exists', path: 'outputs/b' },
    ]);
  });
});

describe('helpers', () => {
  it('resolvePredicatePath refuses paths that escape the grammar', () => {
    expect(() => resolvePredicatePath('outputs/../x', prefix)).toThrow(/ERR_DOT_SEGMENTS/);
    expect(resolvePredicatePath('/artifacts/a', prefix)).toBe('world://artifacts/a');
  });

  it('resolvePointer: whole document, arrays, missing keys, no leading-zero indexes', () => {
    const doc = { a: [10, 20], '': 1 };
    expect(resolvePointer(doc, '')).toEqual({ found: true, value: doc });
    expect(resolvePointer(doc, '/a/1')).toEqual({ found: true, value: 20 });
    expect(resolvePointer(doc, '/a/01')).toEqual({ found: false });
    expect(resolvePointer(doc, '/')).toEqual({ found: true, value: 1 });
    expect(resolvePointer(doc, '/b')).toEqual({ found: false });
  });
});
