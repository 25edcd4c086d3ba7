// A light command loads only light modules (issue 10): `worldloop --help` and `path canon` run the compiled CLI
// with a loader hook that records every module the process loads, and none of them may be a heavy dependency
// (Temporal SDK, Docker client, builder, registry) or a build chunk compiled from the heavy layers. A control
// command shows the recorder sees what is loaded, so a blind recorder cannot make the test pass.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'wl-lazy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEAVY_PACKAGES = ['@temporalio/', 'dockerode', 'docker-modem', 'esbuild', 'modal', 'zod', 'pino', 'ajv', 'yaml'];
/** Source folders whose code must not be in a chunk a light command loads (zod is compiled into the chunks). */
const HEAVY_SOURCES = [
  'node_modules/zod/',
  'src/temporal/',
  'src/adapters/',
  'src/build/',
  'src/oci/',
  'src/registry/',
  'src/config.ts',
  'activities/',
  'workflows/',
];

let traces = 0;
/** The modules one CLI invocation loads: package names and build chunks. */
function loaded(args: string[]): { packages: string[]; chunks: string[] } {
  const file = join(tmp, `trace-${++traces}.txt`);
  const res = spawnSync(
    process.execPath,
    ['--import', join(ROOT, 'tests/fixtures/module-trace/register.mjs'), join(ROOT, 'bin/worldloop.js'), ...args],
    { env: { ...process.env, WORLDLOOP_MODULE_TRACE: file }, encoding: 'utf8', timeout: 60_000 },
  );
  expect(res.status, res.stderr).toBe(0);
  const urls = readFileSync(file, 'utf8').trim().split('\n');
  const packages = new Set<string>();
  const chunks: string[] = [];
  for (const url of urls) {
    const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (pkg) packages.add(pkg[1]!);
    else if (url.includes('/dist/')) chunks.push(basename(url));
  }
  return { packages: [...packages].sort(), chunks };
}

/** Which sources each build chunk was compiled from (esbuild's metafile, written by the build). */
function chunkSources(): Map<string, string[]> {
  const meta = JSON.parse(readFileSync(join(ROOT, 'dist/meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  // A source compiled through a build plugin's namespace (`config-zod:/abs/path/node_modules/zod/…`, the config's
  // own copy of zod, scripts/build.mjs) is named by its path in the repository like any other.
  const plain = (src: string) => src.replace(/^[\w-]+:/, '').replace(`${ROOT}/`, '');
  return new Map(Object.entries(meta.outputs).map(([out, o]) => [basename(out), Object.keys(o.inputs).map(plain)]));
}

function heavyIn(result: { packages: string[]; chunks: string[] }): string[] {
  const sources = chunkSources();
  const packages = result.packages.filter((p) => HEAVY_PACKAGES.some((h) => p === h || p.startsWith(h)));
  const compiled = result.chunks.flatMap((chunk) =>
    (sources.get(chunk) ?? []).filter((src) => HEAVY_SOURCES.some((h) => src.startsWith(h))),
  );
  return [...packages, ...compiled];
}

describe('light commands load no heavy module', () => {
  it.each([[['--help']], [['path', 'canon', 'world://artifacts/a/b']], [['--version']]])('worldloop %j', (args) => {
    const result = loaded(args);
    expect(result.chunks).toContain('cli.js');
    expect(heavyIn(result)).toEqual([]);
  });

  it('the recorder sees heavy modules when a command does load them (control)', () => {
    // `run --help` loads the run command, which imports the config (zod) and the request contracts.
    const result = loaded(['run', '--help']);
    expect(heavyIn(result)).toContain('src/config.ts');
    expect(heavyIn(result).some((src) => src.startsWith('node_modules/zod/'))).toBe(true);
  });
});
