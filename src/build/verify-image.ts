// `worldloop build --verify`: runs each freshly pushed image on both architectures — amd64 natively,
// arm64 under Debian's qemu-user-static through binfmt_misc — in mock mode on the same fixed inputs, with
// the local adapter's hardening flags (no network, read-only root, tmpfs /tmp, non-root, no capabilities,
// no-new-privileges, pids/memory limits), and compares outputs/** and outputs.json byte for byte.
// A deterministic processor that differs between architectures fails the build.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { WorldloopError } from '../contracts/errors';
import type { Platform, RegistryEntry } from '../contracts/schemas';
import type { BuildReport } from './build-push';
import { getRecord, loadRegistry } from '../registry/registry';

const run = promisify(execFile);

/** A fixed UUIDv7, so receipts of the two runs can be compared too. */
export const VERIFY_EXECUTION_ID = '01900000-0000-7000-8000-000000000000';
export const VERIFY_WRITE_PREFIX = 'world://artifacts/verify/';

export interface VerifyRun {
  readonly platform: Platform;
  /** how the image ran: the loop's local adapter, or `docker run` with the same flags; `+qemu` when emulated */
  readonly runner: string;
  readonly image: string;
  readonly exit_code: number;
  readonly duration_ms: number;
  /** relative path → sha256 hex of outputs/** and outputs.json */
  readonly files: Record<string, string>;
}

export interface VerifyResult {
  readonly ref: string;
  readonly deterministic: boolean;
  readonly inputs: unknown;
  readonly runs: readonly VerifyRun[];
  readonly identical: boolean;
  readonly detail: string;
}

/**
 * Fixed inputs for a processor: the schema's first `examples` entry when it has one, else the smallest
 * instance its `required` properties allow (strings "hello world", numbers their minimum or 1, …).
 */
export function fixedInputs(schema: Record<string, unknown>): unknown {
  const examples = schema.examples;
  if (Array.isArray(examples) && examples.length > 0) return examples[0];
  return minimalInstance(schema);
}

function minimalInstance(schema: Record<string, unknown>): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema) return schema.default;
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      const out: Record<string, unknown> = {};
      for (const key of (schema.required ?? []) as string[]) out[key] = minimalInstance(props[key] ?? {});
      // `minProperties` with nothing required (e.g. "exactly one of text or file"): the first declared
      // properties, in order, until there are enough.
      const least = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
      for (const key of Object.keys(props)) {
        if (Object.keys(out).length >= least) break;
        if (!(key in out)) out[key] = minimalInstance(props[key]!);
      }
      return out;
    }
    case 'array': {
      const n = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const items = (schema.items ?? {}) as Record<string, unknown>;
      return Array.from({ length: n }, () => minimalInstance(items));
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    default: {
      // The first candidate the string constraints accept; 'hello world' when none is stated.
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined;
      const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
      const fits = (c: string): boolean => c.length >= min && (!pattern || pattern.test(c));
      return ['hello world', 'hello', 'hello-world', 'a', '0'].find(fits) ?? 'hello world';
    }
  }
}

async function sha256File(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out.push(relative(dir, full));
    }
  };
  await walk(dir);
  return out.sort();
}

export interface RunImageArgs {
  readonly image: string;
  readonly platform: Platform;
  readonly entry: RegistryEntry;
  readonly inputs: unknown;
  readonly timeoutMs?: number;
}

/** Runs one image once in mock mode and reports the digests of what it wrote (receipt excluded). */
export type ImageRunner = (args: RunImageArgs) => Promise<VerifyRun>;

export function emulated(platform: Platform): boolean {
  return (platform === 'arm64' && process.arch !== 'arm64') || (platform === 'amd64' && process.arch !== 'x64');
}

/** Digests of outputs/** and outputs.json under `out` (the receipt names the execution, so it is left out). */
export async function outputDigests(out: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const rel of await listFiles(out)) {
    if (rel === 'receipt.json') continue;
    files[rel] = await sha256File(join(out, rel));
  }
  return files;
}

/**
 * The fallback runner: `docker run` with the local adapter's hardening flags. The CLI passes the adapter
 * itself (src/cli/commands/build.ts) so the check runs exactly what Execute runs.
 */
export async function runImageOnce(args: RunImageArgs): Promise<VerifyRun> {
  const work = await mkdtemp(join(tmpdir(), 'worldloop-verify-'));
  try {
    const out = join(work, 'out');
    await mkdir(out);
    await chmod(work, 0o755);
    await chmod(out, 0o777);
    await writeFile(join(work, 'inputs.json'), JSON.stringify(args.inputs), { mode: 0o644 });
    const memory = `${Math.max(args.entry.runtime.memory_mb, 256)}m`;
    const dockerArgs = [
      'run',
      '--rm',
      '--platform',
      `linux/${args.platform}`,
      '--network',
      'none',
      '--read-only',
      '--tmpfs',
      '/tmp:rw,noexec,nosuid,size=64m',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--pids-limit',
      String(args.entry.runtime.pids),
      // qemu needs headroom the native run does not: the limit is raised to 256 MB at least.
      '--memory',
      memory,
      '--user',
      '65532:65532',
      '-v',
      `${work}:/work:ro`,
      '-v',
      `${out}:/work/out:rw`,
      args.image,
      '--inputs',
      '@/work/inputs.json',
      '--write-prefix',
      VERIFY_WRITE_PREFIX,
      '--execution-id',
      VERIFY_EXECUTION_ID,
      '--mode',
      'mock',
      '--out',
      '/work/out',
    ];
    const t0 = performance.now();
    let exitCode = 0;
    let stderr = '';
    try {
      await run('docker', ['pull', '--platform', `linux/${args.platform}`, '-q', args.image], { timeout: 300_000 });
      await run('docker', dockerArgs, { timeout: args.timeoutMs ?? 300_000 });
    } catch (err) {
      const e = err as { code?: number | string; stderr?: string };
      exitCode = typeof e.code === 'number' ? e.code : 1;
      stderr = (e.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    }
    const duration = Math.round(performance.now() - t0);
    if (exitCode !== 0) {
      throw new WorldloopError(
        'ERR_PROCESSOR_FAILED',
        `${args.image} (linux/${args.platform}) exited ${exitCode}${args.platform === 'arm64' ? ' (is qemu-user-static registered in binfmt_misc? scripts/setup.sh does it)' : ''}: ${stderr}`,
      );
    }
    const files = await outputDigests(out);
    return {
      platform: args.platform,
      runner: emulated(args.platform) ? 'docker run+qemu' : 'docker run',
      image: args.image,
      exit_code: exitCode,
      duration_ms: duration,
      files,
    };
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

export function compareRuns(runs: readonly VerifyRun[]): { identical: boolean; detail: string } {
  const [a, b] = runs;
  if (!a || !b) return { identical: false, detail: 'fewer than two platforms ran' };
  const keys = new Set([...Object.keys(a.files), ...Object.keys(b.files)]);
  const diffs = [...keys].sort().filter((k) => a.files[k] !== b.files[k]);
  if (Object.keys(a.files).length === 0) return { identical: false, detail: 'no outputs were written' };
  return diffs.length === 0
    ? { identical: true, detail: `${keys.size} files identical` }
    : { identical: false, detail: `differ: ${diffs.join(', ')}` };
}

export async function verifyBuilds(args: {
  reports: readonly BuildReport[];
  registryDir: string;
  root: string;
  runImage?: ImageRunner;
  log?: (line: string) => void;
}): Promise<VerifyResult[]> {
  const runImage = args.runImage ?? runImageOnce;
  const registry = await loadRegistry(args.registryDir, { root: args.root });
  const results: VerifyResult[] = [];
  for (const report of args.reports) {
    const { entry } = getRecord(registry, report.ref);
    const inputs = fixedInputs(entry.inputs);
    const runs: VerifyRun[] = [];
    for (const platform of ['amd64', 'arm64'] as const) {
      const built = report.platforms[platform];
      if (!built) throw new WorldloopError('ERR_PLATFORM_MISSING', `${report.ref}: no ${platform} image to verify`);
      const image = `${report.repository}@${built.manifest}`;
      args.log?.(`verify ${report.ref} ${platform}: running ${image}`);
      runs.push(await runImage({ image, platform, entry, inputs }));
    }
    const cmp = compareRuns(runs);
    // Non-deterministic processors are run (both must work) but not required to agree.
    const identical = entry.deterministic ? cmp.identical : true;
    results.push({
      ref: report.ref,
      deterministic: entry.deterministic,
      inputs,
      runs,
      identical,
      detail: entry.deterministic ? cmp.detail : `not deterministic; ${cmp.detail}`,
    });
  }
  return results;
}
