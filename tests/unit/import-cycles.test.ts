// No value-level import cycles (house rule). Type-only imports are erased at compile time and do not
// count; dynamic `import()` does, because a lazy cycle still ties the two modules' load order together.
// The import reader is tests/unit/helpers/value-imports.ts.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSpec, valueImports } from './helpers/value-imports';

const ROOT = join(import.meta.dirname, '../..');
const ROOTS = ['src', 'activities', 'workflows'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('value-level import cycles', () => {
  it('the reader tells type-only imports from value imports', () => {
    const text = [
      `import type { A } from './a';`,
      `import { type B, type C } from './b';`,
      `import { type D, e } from './d';`,
      `export { f } from './f';`,
      `export type { G } from './g';`,
      `import './h';`,
      `const m = await import('./i');`,
      `import { z } from 'zod';`,
    ].join('\n');
    expect(valueImports(text)).toEqual(['./d', './f', './h', './i']);
  });

  it('finds a planted cycle', () => {
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c', 'a']]);
  });

  it(`there are none in ${ROOTS.join(', ')}`, () => {
    const graph = new Map<string, string[]>();
    for (const file of ROOTS.flatMap((r) => sources(join(ROOT, r)))) {
      const deps = valueImports(readFileSync(file, 'utf8'))
        .map((s) => resolveSpec(file, s))
        .filter((p): p is string => p !== undefined);
      graph.set(file, deps);
    }
    expect(graph.size).toBeGreaterThan(100);
    const cycles = findCycles(graph).map((c) => c.map((p) => relative(ROOT, p)).join(' → '));
    expect(cycles).toEqual([]);
  });
});
