// What a run's workflow history proves about its admission (client role): the request it was started with
// and the facts Admit computed (image digest, platform, inputs hash, env fingerprint, cache key). The
// history is the audit trail (docs/architecture.md §2), so `worldloop explain` and lineage read these from
// it rather than from anything a run wrote into the world.
import type { Client } from '@temporalio/client';
import type { AdmitResult, ReserveResult } from '../../activities/types';
import { WorldloopError } from '../contracts/errors';
import type { RunWorkflowInput } from '../contracts/schemas';
import { describeRun, runHandle } from './client';
import { activityOutcomes, decodePayload, startInput } from './history-events';

export interface AdmittedRun {
  readonly execution_id: string;
  readonly started: Date;
  readonly input: RunWorkflowInput;
  /** Undefined when the run stopped before Admit completed (refused input, unknown processor…). */
  readonly admitted: AdmitResult | undefined;
  /** The execution whose outputs a cache hit re-used (decided by Admit or by Reserve's single-flight). */
  readonly cache_source: string | undefined;
}

/** Reads the run's start input and the results of its admit and reserve activities from the history. */
export async function readAdmittedRun(client: Client, executionId: string): Promise<AdmittedRun> {
  const description = await describeRun(client, executionId);
  const history = await runHandle(client, executionId).fetchHistory();
  const events = history.events ?? [];
  const input = startInput(events) as RunWorkflowInput | undefined;
  if (!input?.request)
    throw new WorldloopError('ERR_NOT_FOUND', `run ${executionId} has no run request in its history (not a run)`);
  const { results } = activityOutcomes(events);
  const admitted = decodePayload<AdmitResult>(results.get('admit'));
  const reserved = decodePayload<ReserveResult>(results.get('reserve'));
  const cache_source =
    admitted?.cache_hit?.execution_id ?? (reserved?.status === 'cache_hit' ? reserved.record.execution_id : undefined);
  return { execution_id: executionId, started: description.startTime, input, admitted, cache_source };
}
