// A Docker engine of the chaos suite's own, so a test can restart dockerd mid-run without touching the
// shared engine: its own data root, exec root (where it starts its own containerd), pid file and socket, no
// iptables and no bridge (processor containers in tests run with no network). Only the dockerd process this
// helper spawned is ever signalled.
import Dockerode from 'dockerode';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';

export interface OwnDockerd {
  /** `unix:///…/docker.sock`, for DOCKER_HOST. */
  readonly host: string;
  readonly docker: Dockerode;
  /** Stops dockerd (SIGTERM, as a service manager does) and starts it again on the same state. */
  restart(): Promise<void>;
  /** Stops dockerd and removes its state. */
  destroy(): Promise<void>;
}

async function waitForAnswer(docker: Dockerode, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode} while starting`);
    try {
      await docker.ping();
      return;
    } catch {
      if (Date.now() > until) throw new Error('dockerd did not answer within the start timeout');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** dockerd bind-mounts its data root onto itself and may leave it (and overlay mounts) behind. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await promisify(execFile)('umount', ['-l', m]).catch(() => undefined);
}

export async function startOwnDockerd(opts: { liveRestore: boolean }): Promise<OwnDockerd> {
  // Short paths: containerd's socket lives under the exec root and unix socket paths are limited to 107 bytes.
  const dir = await mkdtemp('/tmp/wl-dd-');
  const socket = join(dir, 'docker.sock');
  const docker = new Dockerode({ socketPath: socket });
  const args = [
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '-H',
    `unix://${socket}`,
    '--iptables=false',
    '--ip-masq=false',
    '--bridge=none',
    ...(opts.liveRestore ? ['--live-restore'] : []),
  ];
  let child: ChildProcess | undefined;
  const launch = async () => {
    const log = await open(join(dir, 'dockerd.log'), 'a');
    child = spawn('dockerd', args, { stdio: ['ignore', log.fd, log.fd] });
    await log.close();
    await waitForAnswer(docker, child, 60_000);
  };
  const stop = async () => {
    if (!child) return;
    const current = child;
    current.kill('SIGTERM');
    await stopped(current);
    child = undefined;
  };
  await launch();
  return {
    host: `unix://${socket}`,
    docker,
    async restart() {
      await stop();
      await launch();
    },
    async destroy() {
      await stop();
      await unmountUnder(dir);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
