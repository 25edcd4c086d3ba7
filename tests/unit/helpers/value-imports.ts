// A small reader of import statements rather than a dependency: the code base is plain ESM TypeScript. Type-only
// imports are erased at compile time and do not count; dynamic `import()` does.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const STATIC = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT = /^\s*import\s+['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every specifier (relative or package) a file imports at value level. */
export function valueSpecifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(STATIC)) {
    const [, , typeOnly, clause = '', spec = ''] = m;
    if (typeOnly) continue;
    // `import { type A, type B } from` imports nothing at run time; one plain name makes it a value import.
    const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
    if (braces) {
      const names = braces[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
    }
    out.push(spec);
  }
  for (const m of text.matchAll(SIDE_EFFECT)) out.push(m[1]!);
  for (const m of text.matchAll(DYNAMIC)) out.push(m[1]!);
  return out;
}

/** The relative specifiers a file imports at value level. */
export function valueImports(text: string): string[] {
  return valueSpecifiers(text).filter((s) => s.startsWith('.'));
}

/** The source file a relative specifier names, if it exists. */
export function resolveSpec(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const candidates = [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}
