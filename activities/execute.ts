// Execute: run the pinned image through the adapter, heartbeating, then stage what the processor wrote
// as content-addressed blobs (staging.ts). Staging is not landing: nothing is bound to a world path until
// Settle has verified it, but the bytes are safe in the store even if this worker disappears; and nothing
// Settle would refuse is copied at all. The outcome is then recorded in the world store (execute-record.ts)
// and the workdir removed: a worker keeps no state of its own once a run has an outcome (issue 12 part 3).
import { CancelledFailure, Context } from '@temporalio/activity';
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { WorldloopError } from '../src/contracts';
import { keepExecutionLogs } from '../src/run-logs';
import type { ActivityDeps } from './deps';
import { invokeOnce, readExecuteRecord, recordExecute, releaseContainer, resultOfRecord } from './execute-record';
import { stageOutputs } from './staging';
import { materializeArtifactInputs } from './artifact-inputs';
import { bindArtifacts } from '../src/contracts/artifact-inputs';
import type { ExecuteInput, ExecuteResult } from './types';
import { removeWorkdir } from './workdir';
import { discardInBackground } from './container-sweep';

export function makeExecute(deps: ActivityDeps) {
  return async function execute({ execution_id, request, admitted }: ExecuteInput): Promise<ExecuteResult> {
    const ctx = Context.current();
    const workdir = deps.workdirFor(execution_id);
    // An earlier attempt (here or on another worker) already has an outcome: return it, never run again.
    const recorded = await readExecuteRecord(deps.world, execution_id);
    if (recorded) {
      await releaseContainer(deps.adapters[admitted.adapter], execution_id);
      await removeWorkdir(workdir);
      return resultOfRecord(recorded);
    }
    const adapter = deps.adapters[admitted.adapter];
    if (!adapter)
      throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `adapter "${admitted.adapter}" is not configured`);
    const secrets: Record<string, string> = {};
    if (admitted.mode === 'real') {
      const resolver = deps.secretsFor('real');
      for (const name of admitted.secret_names) secrets[name] = resolver.resolve(name);
    }
    await mkdir(workdir, { recursive: true });
    const artifacts = admitted.input_artifacts ?? [];
    await materializeArtifactInputs(deps.world, workdir, artifacts);
    return invokeOnce(deps.world, execution_id, async (lock) => {
      const outcome = await adapter.invoke(
        {
          execution_id,
          processor_ref: request.processor_ref,
          image: admitted.image,
          platform: admitted.platform.replace(/^linux\//, '') as 'amd64' | 'arm64',
          mode: admitted.mode,
          // The bound inputs (artifact references carry their digests): what Admit hashed, the container gets.
          inputs: (artifacts.length > 0 ? bindArtifacts(request.inputs, artifacts) : request.inputs) as Record<
            string,
            unknown
          >,
          write_prefix: admitted.write_prefix,
          runtime: admitted.runtime,
          secrets,
          env_fingerprint: admitted.env_fingerprint,
          workdir,
          // Declared, validated processor settings (ADR 0009); the adapter writes them to /work/config.json.
          ...(admitted.config ? { config: admitted.config } : {}),
        },
        {
          signal: ctx.cancellationSignal,
          heartbeat: (detail) => ctx.heartbeat(detail),
          // Only a cancel the workflow asked for (reason CANCELLED) kills the container. Every other abort —
          // heartbeat or attempt timed out while the server was away, activity not found, worker shutdown,
          // pause, reset — leaves it running, and the next attempt adopts it (issue 13, item 1).
          detachOn: (reason) => !(reason instanceof CancelledFailure && reason.message === 'CANCELLED'),
          ...lock,
        },
      );
      const run = {
        execution_id,
        processor_ref: request.processor_ref,
        adapter: admitted.adapter,
        mode: admitted.mode,
      };
      // A container another worker created ran in that worker's workdir (execution-container.ts).
      const ranIn = dirname(outcome.out_dir);
      // The run's log and its staged outputs are independent writes: both land before the record, at once.
      const [, staging] = await Promise.all([
        keepExecutionLogs(deps, run, outcome, ranIn),
        outcome.envelope.status === 'error'
          ? undefined
          : stageOutputs(deps.world, outcome.out_dir, {
              execution_id,
              write_prefix: admitted.write_prefix,
              inputs_hash: admitted.inputs_hash.value,
              reserve_micro: admitted.reserve_micro,
              limits: admitted.runtime.outputs,
            }),
      ]);
      // Recorded before the workdir goes: from here on the world store is the only place this outcome lives.
      const record = await recordExecute(deps.world, execution_id, {
        envelope: outcome.envelope,
        exit_code: outcome.exit_code,
        started_at: outcome.started_at,
        finished_at: outcome.finished_at,
        ...(staging ? { staging } : {}),
      });
      // The record is the lock from here on (ADR 0024): the engine's removal need not delay the run.
      discardInBackground(deps, adapter, execution_id);
      await removeWorkdir(workdir);
      if (ranIn !== workdir && basename(ranIn) === execution_id) await removeWorkdir(ranIn);
      return resultOfRecord(record);
    });
  };
}
