// The lifecycle of a run's workdir (`<state>/runs/<execution_id>/`, and the adapter's sibling
// `secrets-<execution_id>/`): scratch that exists only while the run has no recorded outcome. Execute removes
// it once the outcome is in the world store (execute-record.ts), Release once a failed run gave its budget
// back, and the sweep below removes what a crashed worker left: the workdirs of runs whose workflow is
// closed. A workflow still running keeps its workdir whatever state it is in (a retry may adopt the
// container that writes into it).
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ExecutionIdSchema } from '../src/contracts';

/** The docker adapter keeps real-mode secret files beside the workdir (src/adapters/docker/host-files.ts). */
const SECRETS_PREFIX = 'secrets-';

/**
 * Removes a workdir and the secrets folder beside it; a missing one is not an error. The adapter removes
 * its secrets itself whenever it finishes; this is for the attempt that died before it could.
 */
export async function removeWorkdir(workdir: string): Promise<void> {
  await rm(workdir, { recursive: true, force: true });
  await rm(join(dirname(workdir), `${SECRETS_PREFIX}${basename(workdir)}`), { recursive: true, force: true });
}

export interface SweepDeps {
  /** `<state>/runs`: the folder every workdir of this worker lives in. */
  runsDir: string;
  /** Whether the run's workflow is still open (false for closed or unknown to the server). */
  isRunning(executionId: string): Promise<boolean>;
  logger?: { info(o: object, msg?: string): void; warn(o: object, msg?: string): void };
  /** Run with every sweep: the stopped containers of recorded executions (container-sweep.ts). */
  sweepContainers?: () => Promise<unknown>;
}

export interface SweepReport {
  removed: string[];
  kept: number;
  /** Entries whose workflow could not be looked up (server away): kept, tried again next sweep. */
  unknown: number;
}

/** The execution an entry of the runs folder belongs to; undefined for anything we did not create. */
function executionOf(name: string): string | undefined {
  const id = name.startsWith(SECRETS_PREFIX) ? name.slice(SECRETS_PREFIX.length) : name;
  return ExecutionIdSchema.safeParse(id).success ? id : undefined;
}

export async function sweepWorkdirs(deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = { removed: [], kept: 0, unknown: 0 };
  const names = await readdir(deps.runsDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const open = new Map<string, Promise<boolean>>();
  for (const name of names.sort()) {
    const id = executionOf(name);
    if (!id) continue;
    let running: boolean;
    try {
      if (!open.has(id)) open.set(id, deps.isRunning(id));
      running = await open.get(id)!;
    } catch (err) {
      report.unknown++;
      deps.logger?.warn(
        { event: 'workdir.sweep', execution_id: id, err: err instanceof Error ? err.message : String(err) },
        'cannot tell whether the run is still open; its workdir stays until the next sweep',
      );
      continue;
    }
    if (running) {
      report.kept++;
      continue;
    }
    await rm(join(deps.runsDir, name), { recursive: true, force: true });
    report.removed.push(name);
  }
  if (report.removed.length > 0) {
    deps.logger?.info(
      { event: 'workdir.sweep', removed: report.removed.length, kept: report.kept },
      'removed the workdirs of closed runs',
    );
  }
  return report;
}

/** Every ten minutes: cheap (one directory listing, one lookup per leftover) and a leftover costs only disk. */
export const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Sweeps now and then every `intervalMs` until stopped; a failed sweep is logged, never thrown. */
export function startWorkdirSweeper(deps: SweepDeps, intervalMs = SWEEP_INTERVAL_MS): { stop(): Promise<void> } {
  let current: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    const both = Promise.all([sweepWorkdirs(deps), deps.sweepContainers?.()]);
    current = both.catch((err: unknown) =>
      deps.logger?.warn(
        { event: 'workdir.sweep', err: err instanceof Error ? err.message : String(err) },
        'workdir or container sweep failed',
      ),
    );
  };
  sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
