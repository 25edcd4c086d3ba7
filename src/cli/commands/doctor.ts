// `worldloop doctor`: one row per thing worldloop needs, each ok/warn/fail with the action to take. It
// exits 1 when the main job (a run on Temporal in Docker) cannot work, so scripts can gate on it.
import { access, constants, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { config, type Config } from '../../config';
import { connectDocker, dockerEngineStatus } from '../../adapters/docker-engine';
import { ociRegistryAnswers, ociRegistryBinary, ociRegistryUrl } from '../../oci/registry-server';
import { locateTemporalCli, temporalCliVersion, whichOnPath } from '../../temporal/cli-binary';
import { devServerStatus, probeTemporal } from '../../temporal/dev-server';
import { EXIT_FAILURE, action, printJson } from '../output';
import { ERROR_CATALOGUE, WorldloopError, detailOfMessage } from '../../contracts/errors';

export const NODE_MIN = '20.19';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about a warn or fail; absent when ok. */
  readonly action?: string;
}

const ok = (name: string, detail: string): DoctorCheck => ({ name, status: 'ok', detail });
const warn = (name: string, detail: string, todo: string): DoctorCheck => ({
  name,
  status: 'warn',
  detail,
  action: todo,
});
const fail = (name: string, detail: string, todo: string): DoctorCheck => ({
  name,
  status: 'fail',
  detail,
  action: todo,
});

/** True when `version` (e.g. "20.19.1" or "v22.3.0") is at least `min` ("major.minor"). */
export function nodeVersionAtLeast(version: string, min: string): boolean {
  const [a = 0, b = 0] = version.replace(/^v/, '').split('.').map(Number);
  const [x = 0, y = 0] = min.split('.').map(Number);
  return a > x || (a === x && b >= y);
}

export function checkNode(version: string): DoctorCheck {
  return nodeVersionAtLeast(version, NODE_MIN)
    ? ok('node', `v${version.replace(/^v/, '')}`)
    : fail(
        'node',
        `v${version.replace(/^v/, '')} is older than ${NODE_MIN}`,
        `Install Node >= ${NODE_MIN} (e.g. \`nvm install 22\`).`,
      );
}

export async function checkDocker(cfg: Config): Promise<DoctorCheck> {
  const status = await dockerEngineStatus(connectDocker(cfg));
  if (status.ok) return ok('docker engine', `${status.version} (API ${status.apiVersion})`);
  return fail(
    'docker engine',
    `not reachable${cfg.dockerHost ? ` at DOCKER_HOST=${cfg.dockerHost}` : ''}: ${status.error}`,
    'Start Docker (Linux: `sudo systemctl start docker`, or as root on Debian `bash scripts/setup.sh` installs and starts dockerd; macOS: Docker Desktop/Colima).',
  );
}

export async function checkTemporalCli(cfg: Config): Promise<DoctorCheck> {
  const name = 'temporal cli';
  let found: Awaited<ReturnType<typeof locateTemporalCli>>;
  try {
    found = await locateTemporalCli(cfg);
  } catch (err) {
    return fail(name, detailOfMessage((err as Error).message), 'Fix or unset WORLDLOOP_TEMPORAL_BIN.');
  }
  if (found) {
    try {
      return ok(name, `${found.path} (${found.source}): ${await temporalCliVersion(found.path, cfg.searchPath)}`);
    } catch (err) {
      return fail(
        name,
        `${found.path} --version failed: ${(err as Error).message}`,
        'Reinstall it: `bash scripts/setup.sh`.',
      );
    }
  }
  const go = await whichOnPath('go', cfg.searchPath);
  const todo = go
    ? 'Run `bash scripts/setup.sh` (builds it with `go install`, 1–4 min) or set WORLDLOOP_TEMPORAL_BIN.'
    : 'Install the Temporal CLI (https://docs.temporal.io/cli#install) or Go >= 1.23, then `bash scripts/setup.sh`; or set WORLDLOOP_TEMPORAL_BIN.';
  // A configured cluster does not need the CLI; the embedded default does.
  return cfg.temporal.address
    ? warn(name, 'not found (not needed while TEMPORAL_ADDRESS is set)', todo)
    : fail(name, 'not found: the embedded dev server cannot start', todo);
}

export async function checkStateDir(cfg: Config): Promise<DoctorCheck> {
  const probe = join(cfg.stateDir, `.doctor-${process.pid}`);
  try {
    await mkdir(cfg.stateDir, { recursive: true });
    await writeFile(probe, 'ok');
    if ((await readFile(probe, 'utf8')) !== 'ok') throw new Error('read back different bytes');
    await rm(probe, { force: true });
    return ok('state dir', `${cfg.stateDir} (writable)`);
  } catch (err) {
    return fail(
      'state dir',
      `${cfg.stateDir} is not writable: ${(err as Error).message}`,
      'Fix its permissions, or point WORLDLOOP_STATE_DIR at a writable folder.',
    );
  }
}

/** The world store: the local folder (covered by the state dir check) or the bucket, probed for real. */
export async function checkWorldStore(cfg: Config): Promise<DoctorCheck> {
  const name = 'world store';
  if (cfg.world.kind === 'local') return ok(name, `local disk under ${cfg.stateDir}/world`);
  const { s3StoreFor } = await import('../../world/s3-client');
  const store = s3StoreFor(cfg.world);
  const where = `${store.description} at ${cfg.world.endpoint ?? 'AWS'} (region ${cfg.world.region})`;
  try {
    await store.probe();
    return ok(name, `${where}: bucket answers`);
  } catch (err) {
    const code = err instanceof WorldloopError ? err.code : 'ERR_S3_UNAVAILABLE';
    return fail(name, `${where}: ${detailOfMessage((err as Error).message)}`, ERROR_CATALOGUE[code].action);
  }
}

export async function checkOciRegistry(cfg: Config): Promise<DoctorCheck[]> {
  const bin = ociRegistryBinary(cfg.searchPath);
  const answers = await ociRegistryAnswers(cfg);
  const url = `${ociRegistryUrl(cfg)}/v2/`;
  return [
    bin
      ? ok('oci registry binary', bin)
      : warn(
          'oci registry binary',
          'not found (docker-registry / registry)',
          'Debian: `apt-get install docker-registry` (or `bash scripts/setup.sh` as root); needed for supply-chain work.',
        ),
    answers
      ? ok('oci registry', `${url} answers`)
      : warn('oci registry', `${url} does not answer`, 'Run `bash scripts/setup.sh` to start the loopback registry.'),
  ];
}

export async function checkTemporalServer(cfg: Config): Promise<DoctorCheck> {
  const name = 'temporal server';
  const address = cfg.temporal.address;
  if (address) {
    // TLS/API-key clusters need the full connection settings; a plain probe only fits a plaintext one.
    if (cfg.temporal.tls || cfg.temporal.apiKey) {
      const { connectTemporal } = await import('../../temporal/connection');
      try {
        const c = await connectTemporal(cfg);
        await c.connection.close();
        return ok(name, `${address} answers (namespace ${cfg.temporal.namespace}, TLS)`);
      } catch (err) {
        return fail(
          name,
          (err as Error).message,
          'Check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TLS/API key settings.',
        );
      }
    }
    const probe = await probeTemporal(address, cfg.temporal.namespace, 5_000);
    return probe
      ? ok(name, `${address} answers (Temporal ${probe.serverVersion}, namespace ${cfg.temporal.namespace})`)
      : fail(
          name,
          `${address} does not answer (namespace ${cfg.temporal.namespace})`,
          'Check TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, or unset TEMPORAL_ADDRESS to use the embedded dev server.',
        );
  }
  const s = await devServerStatus(cfg);
  if (s.healthy) {
    return ok(
      name,
      `embedded dev server at ${s.address} (Temporal ${s.serverVersion}${s.pid ? `, pid ${s.pid}` : ''}), UI ${s.uiUrl}${s.uiOk ? '' : ' not answering'}`,
    );
  }
  return warn(
    name,
    `embedded dev server not running at ${s.address}; worldloop starts it on first use`,
    'Optional: `worldloop server start` to start it now.',
  );
}

/** Extras the test lanes use; never fatal for the main job. */
export async function checkExtras(cfg: Config): Promise<DoctorCheck[]> {
  const chromium =
    (await whichOnPath('chromium', cfg.searchPath)) ?? (await whichOnPath('chromium-browser', cfg.searchPath));
  const arm64 = await readFile('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8').then(
    (text) => text.startsWith('enabled'),
    () => false,
  );
  const qemu = await access('/usr/bin/qemu-aarch64-static', constants.X_OK).then(
    () => true,
    () => false,
  );
  return [
    chromium
      ? ok('chromium', chromium)
      : warn(
          'chromium',
          'not found (used by the Web UI browser test)',
          'Debian: `apt-get install chromium` (or `bash scripts/setup.sh`).',
        ),
    arm64
      ? ok('arm64 emulation', 'binfmt_misc qemu-aarch64 enabled')
      : warn(
          'arm64 emulation',
          qemu
            ? 'qemu-user-static installed but binfmt_misc qemu-aarch64 is not registered'
            : 'qemu-user-static not installed',
          'As root: `bash scripts/setup.sh` (installs qemu-user-static and registers binfmt_misc where the kernel allows).',
        ),
  ];
}

export async function runDoctor(cfg: Config, nodeVersion: string): Promise<DoctorCheck[]> {
  const [docker, cli, state, registry, server, worldStore, extras] = await Promise.all([
    checkDocker(cfg),
    checkTemporalCli(cfg),
    checkStateDir(cfg),
    checkOciRegistry(cfg),
    checkTemporalServer(cfg),
    checkWorldStore(cfg),
    checkExtras(cfg),
  ]);
  return [checkNode(nodeVersion), docker, cli, state, ...registry, server, worldStore, ...extras];
}

/** The main job can run only when no check failed (warnings are advice). */
export function doctorExitCode(checks: readonly DoctorCheck[]): number {
  return checks.some((c) => c.status === 'fail') ? EXIT_FAILURE : 0;
}

export function renderDoctorTable(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.flatMap((c) => [
    `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`,
    ...(c.action ? [`${' '.repeat(6 + width)}  → ${c.action}`] : []),
  ]);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  const verdict =
    failed > 0
      ? `${failed} check(s) failed: worldloop cannot run until they are fixed.`
      : `ready${warned > 0 ? ` (${warned} warning(s))` : ''}.`;
  return `${lines.join('\n')}\n\n${verdict}\n`;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check what worldloop needs (Node, Docker, Temporal, state dir, OCI registry); exit 1 if it cannot run.',
    )
    .option('--json', 'print {"ok":…,"checks":[{"name","status","detail","action"}]} on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop doctor
  ok    node                 v20.19.2
  ok    docker engine        20.10.24+dfsg1 (API 1.41)
  ok    temporal cli         /home/me/.cache/worldloop/tools/bin/temporal (cache): temporal version 1.5.1 …
  ok    state dir            /home/me/.worldloop (writable)
  ok    oci registry binary  /usr/bin/docker-registry
  ok    oci registry         http://127.0.0.1:5000/v2/ answers
  warn  temporal server      embedded dev server not running at 127.0.0.1:7233; worldloop starts it on first use
                             → Optional: \`worldloop server start\` to start it now.
  …
  ready (1 warning(s)).
  $ worldloop doctor --json | jq -r '.checks[] | select(.status=="fail") | .action'
`,
    )
    .action(
      action(async (opts: { json?: boolean }) => {
        const checks = await runDoctor(config(), process.versions.node);
        const code = doctorExitCode(checks);
        if (opts.json) printJson({ ok: code === 0, checks });
        else process.stdout.write(renderDoctorTable(checks));
        return code;
      }),
    );
}
