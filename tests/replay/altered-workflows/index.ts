// A deliberately non-deterministic change of runProcessor, for the negative replay test: it skips Admit
// and goes straight to Reserve. Replaying a recorded history against it must fail with a determinism
// violation — which proves the replay lane would catch such a change before it ships.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../../activities';
import type { Envelope, RunWorkflowInput } from '../../../src/contracts';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '60s' });

export async function runProcessor(input: RunWorkflowInput): Promise<Envelope> {
  await acts.release({ execution_id: input.execution_id, plan: input.request.plan });
  throw new Error('unreachable in replay');
}
