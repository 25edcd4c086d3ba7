// Removing an execution's finished container off Execute's critical path (ADR 0024).
// The kept container is the lock that keeps an execution to one run only until Execute's record is in the world
// store (ADR 0020); from then on every attempt on every worker returns the record and creates nothing. So once
// the record is written, Execute hands the removal to the background and returns: the engine's removal (35-96 ms
// on the reference machine) no longer delays the run. Nothing leaks: a removal that fails, or a worker that
// dies before it finishes, leaves a stopped container whose record exists, and the sweep below (at worker start
// and with every workdir sweep) removes exactly those. A stopped container without a record stays: an attempt
// may still adopt it.
import type { Adapter } from '../src/adapters/adapter';
import type { AdapterName } from '../src/contracts';
import type { ActivityDeps } from './deps';
import { readExecuteRecord } from './execute-record';

type SweepDeps = Pick<ActivityDeps, 'world' | 'adapters' | 'logger'>;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Removals started and not finished yet. A worker waits for them before it stops: the CLI's embedded worker and a
 * test's worker stop right after their last run, and a removal cut short there would leave a container for a
 * sweep that, with a temporary state dir, never comes.
 */
const pendingDiscards = new Set<Promise<void>>();

/** Starts the removal and returns at once; a failure is logged and left to the sweep. */
export function discardInBackground(deps: Pick<ActivityDeps, 'logger'>, adapter: Adapter, executionId: string): void {
  if (!adapter.discard) return;
  const removal: Promise<void> = adapter
    .discard(executionId)
    .catch((err: unknown) =>
      deps.logger.warn(
        { event: 'container.discard', execution_id: executionId, err: messageOf(err) },
        'removing the finished container failed; the next container sweep removes it',
      ),
    )
    .finally(() => pendingDiscards.delete(removal));
  pendingDiscards.add(removal);
}

/** Resolves once every removal started in this process so far has finished (or failed and been logged). */
export async function backgroundDiscardsFinished(): Promise<void> {
  await Promise.all([...pendingDiscards]);
}

export interface ContainerSweepReport {
  removed: string[];
  /** Stopped containers with no Execute record: an attempt may still adopt them. */
  kept: number;
}

/** Removes every stopped container whose execution has its Execute record; idempotent, safe beside any attempt. */
export async function sweepContainers(deps: SweepDeps): Promise<ContainerSweepReport> {
  const report: ContainerSweepReport = { removed: [], kept: 0 };
  for (const name of Object.keys(deps.adapters) as AdapterName[]) {
    const adapter = deps.adapters[name];
    if (!adapter?.stoppedContainers || !adapter.discard) continue;
    for (const executionId of await adapter.stoppedContainers()) {
      // A record that cannot be read (malformed, store away) keeps the container: it is the only proof left.
      const recorded = await readExecuteRecord(deps.world, executionId).catch(() => undefined);
      if (!recorded) {
        report.kept++;
        continue;
      }
      await adapter.discard(executionId);
      report.removed.push(executionId);
    }
  }
  if (report.removed.length > 0) {
    deps.logger.info(
      { event: 'container.sweep', removed: report.removed.length, kept: report.kept },
      'removed the stopped containers of recorded executions',
    );
  }
  return report;
}
