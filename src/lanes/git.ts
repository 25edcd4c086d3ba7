// The few git plumbing steps the pins pull request needs, through the git CLI (what a runner and a laptop
// both have). Nothing here touches the working tree, the index or HEAD: the commit is built with a private
// index file, so a failed run leaves the checkout exactly as it was.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorldloopError } from '../contracts/errors';

const run = promisify(execFile);

export interface Git {
  (args: readonly string[], env?: Readonly<Record<string, string>>): Promise<string>;
}

/** A git runner in `dir`; a failure is ERR_PIN_PR naming the git subcommand and git's first error line. */
export function gitIn(dir: string): Git {
  return async (args, env = {}) => {
    try {
      const { stdout } = await run('git', [...args], {
        cwd: dir,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...env },
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout.replace(/\s+$/, '');
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      const first = (e.stderr ?? e.message).split('\n').find((l) => l.trim() !== '') ?? 'failed';
      throw new WorldloopError('ERR_PIN_PR', `git ${args[0] ?? ''}: ${first.trim().slice(0, 300)}`);
    }
  };
}

/** Paths under `paths` that differ from HEAD in the working tree (modified, added or deleted). */
export async function changedPaths(git: Git, paths: readonly string[]): Promise<string[]> {
  const out = await git(['status', '--porcelain=v1', '--untracked-files=all', '--', ...paths]);
  return out
    .split('\n')
    .filter((l) => l.length > 3)
    .map((l) => l.slice(3))
    .sort();
}

/** The tree of HEAD with the working-tree state of `paths` laid over it (a private index; HEAD untouched). */
export async function treeWith(git: Git, paths: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'worldloop-git-'));
  const env = { GIT_INDEX_FILE: join(dir, 'index') };
  try {
    await git(['read-tree', 'HEAD'], env);
    await git(['add', '--all', '--', ...paths], env);
    return await git(['write-tree'], env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The commit a remote branch points at, or undefined when the remote has no such branch. */
export async function remoteBranchHead(git: Git, remote: string, branch: string): Promise<string | undefined> {
  const out = await git(['ls-remote', '--heads', remote, `refs/heads/${branch}`]);
  return out.split(/\s+/)[0] || undefined;
}
