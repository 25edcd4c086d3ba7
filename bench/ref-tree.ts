// A git ref's control-plane sources in a temporary folder, for the benches that run two trees side by side.
import { execFile } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, loadConfig, type Config } from '../src/config';
import { ensureOciRegistry } from '../src/oci/registry-server';
import { resolveTemporalTarget } from '../src/temporal/connection';
import { preparedRegistryDir } from '../tests/integration/loop-harness';

const exec = promisify(execFile);

/** `workflows/`, `activities/`, `src/` and package.json of `ref`, resolving packages from this checkout's node_modules. */
export async function refTree(ref: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wl-ref-'));
  await exec('bash', [
    '-c',
    `git -C "${REPO_ROOT}" archive "${ref}" package.json workflows activities src | tar -x -C "${dir}"`,
  ]);
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/**
 * A private state folder on the Temporal server the environment names (or the embedded one), with the loopback
 * registry up and the processors pinned to images built from this checkout: the set-up every A/B bench shares.
 */
export async function benchConfig(prefix: string): Promise<{ cfg: Config; address: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), prefix));
  const base = loadConfig({ ...process.env, WORLDLOOP_STATE_DIR: stateDir, WORLDLOOP_LOG_LEVEL: 'error' });
  const [dev] = await Promise.all([resolveTemporalTarget(loadConfig(process.env)), ensureOciRegistry(base)]);
  const cfg = loadConfig({
    ...process.env,
    WORLDLOOP_STATE_DIR: stateDir,
    WORLDLOOP_REGISTRY_DIR: await preparedRegistryDir(),
    TEMPORAL_ADDRESS: dev.address,
    WORLDLOOP_LOG_LEVEL: 'error',
  });
  return { cfg, address: dev.address };
}
