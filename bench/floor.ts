// What the benchmarks compare worldloop with, measured in the same run: a bare hardened `docker run` of the same
// image (the floor under any run), and the percentile helper every bench prints with.
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** The hardening worldloop's local adapter applies (docs/local-adapter.md), as `docker run` flags. */
export const HARDENING = [
  '--network',
  'none',
  '--read-only',
  '--tmpfs',
  '/tmp:rw,noexec,nosuid,size=64m',
  '--user',
  '65532:65532',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges',
  '--pids-limit',
  '64',
  '--memory',
  '128m',
  '--memory-swap',
  '128m',
  '--cpus',
  '0.5',
];

/** One `docker run --rm` of a processor image with the same hardening and inputs; returns the wall time in ms. */
export async function bareRun(image: string, text: string): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'wl-bare-'));
  await mkdir(join(work, 'out'));
  await writeFile(join(work, 'inputs.json'), JSON.stringify({ text }));
  await chown(join(work, 'out'), 65532, 65532);
  await chmod(work, 0o755);
  const started = performance.now();
  await exec('docker', [
    'run',
    '--rm',
    ...HARDENING,
    '-v',
    `${work}:/work`,
    image,
    '--inputs',
    '@/work/inputs.json',
    '--write-prefix',
    'world://artifacts/bench/',
    '--execution-id',
    '01900000-0000-7000-8000-000000000000',
    '--mode',
    'mock',
    '--out',
    '/work/out',
  ]);
  const elapsed = performance.now() - started;
  await rm(work, { recursive: true, force: true });
  return elapsed;
}
