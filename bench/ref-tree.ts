// A git ref's control-plane sources in a temporary folder, for the benches that run two trees side by side.
import { execFile } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../src/config';

const exec = promisify(execFile);

/** `activities/`, `src/` and package.json of `ref`, resolving packages from this checkout's node_modules. */
export async function refTree(ref: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wl-ref-'));
  await exec('bash', ['-c', `git -C "${REPO_ROOT}" archive "${ref}" package.json activities src | tar -x -C "${dir}"`]);
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
