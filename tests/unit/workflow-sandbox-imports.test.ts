// What the workflow bundle evaluates per run. With the SDK's reusable V8 context every module a workflow imports
// is evaluated again in each workflow's sandbox (module state must not leak between runs), so each package in this
// graph costs every run CPU on the workflow thread, in its first workflow task. zod and the schemas alone were
// ≈ 11 ms a run (docs/benchmarks.md, "Workflow tasks"); the workflow needs the SDK and pure helpers only.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSpec, valueSpecifiers } from './helpers/value-imports';

const ROOT = join(import.meta.dirname, '../..');
const ALLOWED_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];

/** Every module file and package the entry reaches through value imports. */
function valueGraph(entry: string): { files: string[]; packages: Map<string, string> } {
  const files: string[] = [];
  const packages = new Map<string, string>();
  const visit = (file: string) => {
    if (files.includes(file)) return;
    files.push(file);
    for (const spec of valueSpecifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) {
        packages.set(spec, relative(ROOT, file));
        continue;
      }
      const next = resolveSpec(file, spec);
      if (next === undefined) throw new Error(`${relative(ROOT, file)}: cannot resolve ${spec}`);
      visit(next);
    }
  };
  visit(entry);
  return { files: files.map((f) => relative(ROOT, f)), packages };
}

describe('the workflow sandbox imports', () => {
  it('reach only the Temporal SDK and pure modules: no zod, no schemas', () => {
    const { files, packages } = valueGraph(join(ROOT, 'workflows', 'index.ts'));
    expect(files).toContain('workflows/run-processor.ts');
    expect(files).toContain('src/contracts/write-prefix.ts');
    expect(files).not.toContain('src/contracts/schemas.ts');
    const outside = [...packages].filter(([pkg]) => !ALLOWED_PACKAGES.includes(pkg));
    expect(outside.map(([pkg, from]) => `${pkg} (from ${from})`)).toEqual([]);
  });

  it('the graph reader sees a package a module imports (negative case)', () => {
    const { packages } = valueGraph(join(ROOT, 'src', 'contracts', 'schemas.ts'));
    expect(packages.has('zod')).toBe(true);
  });
});
