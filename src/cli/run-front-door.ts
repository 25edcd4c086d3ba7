// `worldloop run` the short way: when the resident worker of this state folder is up and serves this build, task
// queue and dev server, the run's draft goes to it over its socket (src/temporal/front-door-client.ts), and this
// process loads no Temporal SDK, request schema or hashing library and opens no gRPC connection. Anything else — a
// cluster, no worker yet, a stale one, a draft the worker refused, a closed socket before the run started —
// answers undefined, and the caller takes the long way (which checks the draft itself, and also starts or
// replaces the resident worker).
import type { PhaseState } from '../../activities';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { pidAlive, readPid } from '../lock-file';
import { devServerAddress } from '../temporal/dev-server-address';
import { FrontDoorClosed, runThroughFrontDoor } from '../temporal/front-door-client';
import { readIdentity, residentWorkerPaths, sameIdentity, wantedIdentity } from '../temporal/resident-identity';
import { EXIT_OK } from './output';
import { finalPhases, watchPhases } from './phase-display';
import type { RunDraft } from './run-draft';
import { printStarted, reportEnvelope, type RunCommandOptions, type StartedRunInfo } from './run-output';

async function currentResidentSocket(cfg: Config): Promise<string | undefined> {
  if (cfg.temporal.address || !cfg.temporal.embeddedWorker) return undefined;
  const paths = residentWorkerPaths(cfg);
  const [pid, identity, want] = await Promise.all([
    readPid(paths.pidFile),
    readIdentity(paths.infoFile),
    wantedIdentity(cfg, devServerAddress(cfg)),
  ]);
  return pidAlive(pid) && sameIdentity(identity, want) ? paths.socketFile : undefined;
}

export async function runViaFrontDoor(
  cfg: Config,
  draft: RunDraft,
  opts: RunCommandOptions,
): Promise<number | undefined> {
  const socket = await currentResidentSocket(cfg);
  if (!socket) return undefined;
  let info: StartedRunInfo | undefined;
  let latest: PhaseState | undefined;
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const result = runThroughFrontDoor(
    socket,
    { draft, detach: opts.detach === true, watch: !opts.json && !opts.detach },
    {
      onNotice: (text) => process.stderr.write(text),
      onStarted(msg) {
        info = msg;
        printStarted(msg, opts);
        onStarted();
      },
      onPhase: (state) => (latest = state),
    },
  );
  try {
    await Promise.race([started, result]);
    if (!opts.json && !opts.detach)
      await watchPhases(
        async () => latest,
        result.then((e) => (e ? finalPhases(e) : undefined)).catch(() => undefined),
      );
    const envelope = await result;
    return envelope ? reportEnvelope(envelope, info!.ui, opts) : EXIT_OK;
  } catch (err) {
    if (err instanceof FrontDoorClosed) return undefined;
    const id = info?.execution_id ?? '?';
    throw new WorldloopError(
      'ERR_WORKER_UNAVAILABLE',
      `lost the resident worker while waiting for run ${id} (the run goes on; \`worldloop show ${id}\`): ${(err as Error).message}`,
    );
  }
}
