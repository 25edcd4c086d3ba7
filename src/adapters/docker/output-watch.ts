// Disk exhaustion by outputs (issue 14, item 1): /work/out is a plain host folder, so the adapter watches its
// apparent usage while the container runs — a sparse file counts at its full length — and kills the
// container the moment it passes `runtime.outputs`. The same check runs once more after the container
// exits, so a processor that writes fast and exits before the next poll is refused all the same.
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runtime } from '../../contracts/schemas';

export type OutputLimits = Runtime['outputs'];
export const OUTPUT_POLL_MS = 500;

export interface OutputUsage {
  /** Entries other than folders under outputs/. */
  readonly files: number;
  /** Apparent bytes of every file under /work/out. */
  readonly total_bytes: number;
  readonly largest_bytes: number;
  readonly largest_path: string;
  /** The walk stopped early: more entries than any allowed run leaves. */
  readonly truncated: boolean;
}

const MiB = 2 ** 20;
const human = (n: number): string => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${n} bytes`);

/** Which limit `usage` passes, in words, or undefined when it is within all of them. Pure. */
export function limitPassed(usage: OutputUsage, limits: OutputLimits): string | undefined {
  if (usage.truncated || usage.files > limits.max_files) {
    return `more than ${limits.max_files} files under outputs/ (max_files)`;
  }
  if (usage.largest_bytes > limits.max_file_bytes) {
    return `${usage.largest_path} is ${human(usage.largest_bytes)}, over max_file_bytes ${human(limits.max_file_bytes)}`;
  }
  if (usage.total_bytes > limits.max_total_bytes) {
    return `${human(usage.total_bytes)} in total, over max_total_bytes ${human(limits.max_total_bytes)}`;
  }
  return undefined;
}

/**
 * Walks `outDir` without following symlinks. The walk is bounded: it stops after a few more entries than
 * `max_files` allows (folders included, so a tree of empty folders cannot make it unbounded either).
 */
export async function measureOutputs(outDir: string, limits: OutputLimits): Promise<OutputUsage> {
  const budget = 2 * limits.max_files + 64;
  let seen = 0;
  let files = 0;
  let total = 0;
  let largest = 0;
  let largestPath = '';
  const stack: { dir: string; rel: string }[] = [{ dir: outDir, rel: '' }];
  while (stack.length > 0) {
    const { dir, rel } = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // gone or not a folder: nothing of it is on disk to count
    }
    for (const e of entries) {
      if (++seen > budget)
        return { files, total_bytes: total, largest_bytes: largest, largest_path: largestPath, truncated: true };
      const path = join(dir, e.name);
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        stack.push({ dir: path, rel: relPath });
        continue;
      }
      if (relPath.startsWith('outputs/')) files++;
      const size = await lstat(path).then(
        (st) => st.size,
        () => 0, // removed since the listing: it no longer takes space
      );
      total += size;
      if (size > largest) {
        largest = size;
        largestPath = relPath;
      }
    }
  }
  return { files, total_bytes: total, largest_bytes: largest, largest_path: largestPath, truncated: false };
}

/** The limit the folder passes now, or undefined. */
export async function checkOutputs(outDir: string, limits: OutputLimits): Promise<string | undefined> {
  return limitPassed(await measureOutputs(outDir, limits), limits);
}

/** Polls `outDir` every OUTPUT_POLL_MS; `passed` resolves with the limit passed, once it is. */
export function watchOutputs(outDir: string, limits: OutputLimits): { passed: Promise<string>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const passed = new Promise<string>((resolve) => {
    const poll = async () => {
      const over = await checkOutputs(outDir, limits).catch(() => undefined);
      if (stopped) return;
      if (over) return resolve(over);
      timer = setTimeout(() => void poll(), OUTPUT_POLL_MS);
    };
    timer = setTimeout(() => void poll(), OUTPUT_POLL_MS);
  });
  return {
    passed,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
