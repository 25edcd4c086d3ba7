// runProcessor: one run, one deterministic workflow, one activity per phase (docs/architecture.md §2).
//   Propose (workflow start) → Admit → Reserve → Execute → Settle → Re-check
// The history is the audit trail. A failure after Reserve always runs the compensation (release budget
// and leases) in a non-cancellable scope, so a failed or cancelled run never holds budget.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/create-activities';
import type { AdmitResult, ExecuteResult, Phase, PhaseState } from '../activities/types';
import type { Envelope, RunWorkflowInput } from '../src/contracts';
import { errorEnvelope, unstartedMeta } from '../src/contracts/envelope';
import { codeFromMessage, codedMessage, detailOfMessage, isErrorCode, type ErrorCode } from '../src/contracts/errors';
import { NON_RETRYABLE_CODES, toApplicationFailure } from '../src/contracts/failure';
import { executionIdOf } from '../src/contracts/workflow-id';
import { expandWritePrefix } from '../src/contracts/write-prefix';
import { refusedPayloadDetail } from '../src/contracts/refused-payload';
import {
  SA_CACHE_HIT,
  SA_EXECUTION_ID,
  SA_IMAGE_DIGEST,
  SA_INPUTS_HASH,
  SA_MODE,
  SA_PLAN,
  SA_PROCESSOR_REF,
  SA_STATUS,
} from '../src/contracts/search-attributes';

type Activities = ReturnType<typeof createActivities>;

export const phaseQuery = defineQuery<PhaseState>('phase');

const retry = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '10s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE_CODES,
};

const quick = proxyActivities<Activities>({ startToCloseTimeout: '60s', retry });

/**
 * Admit, the cache-hit Settle and Re-check as local activities (issue 10 part 3): they run inside the workflow
 * task that needs them, without a round trip through the server's task queue each, and each still leaves its
 * own marker in the history (activity type, attempt, result, and the summary below). They are short, read-mostly
 * and idempotent; Reserve (it heartbeats while it waits), Execute (a retry adopts the container) and the miss
 * path's Settle stay ordinary activities. Runs that began before this change replay on the old path.
 */
export const LOCAL_PHASES_PATCH = 'local-phases-v1';

/**
 * Reserve as a local activity too (ADR 0023), in the workflow task that ran Admit: one activity dispatch and one
 * workflow task fewer on every miss. It is idempotent per execution_id (ledger, leases, the single-flight claim),
 * so a local attempt run again on another worker after a crash takes nothing twice. It cannot heartbeat, so it
 * never waits: when an identical run is in flight it answers `in_flight` and the ordinary activity waits.
 */
export const LOCAL_RESERVE_PATCH = 'local-reserve-v1';

/**
 * A cancel that reaches the workflow while Reserve is under way (a local activity the cancel abandons, or an
 * ordinary one cancelled mid-attempt) may leave the reservation Reserve had just written: since this patch the
 * failure path releases then too (ADR 0023). Release is idempotent and a no-op for an execution holding nothing.
 */
export const RELEASE_CANCELLED_RESERVE_PATCH = 'release-cancelled-reserve-v1';

const localPhase = (summary: string) =>
  proxyLocalActivities<Activities>({ startToCloseTimeout: '60s', retry, summary });
const local = {
  admit: localPhase('Admit').admit,
  settleCached: localPhase('Settle (cache hit)').settleCached,
  recheck: localPhase('Re-check').recheck,
  reserve: localPhase('Reserve').reserve,
};

export async function runProcessor(input: RunWorkflowInput): Promise<Envelope> {
  const info = workflowInfo();
  // The worker's codec refused the start payload's JSON text (a number a double cannot hold, ADR 0010).
  const refused = refusedPayloadDetail(input);
  if (refused !== undefined) {
    const envelope = errorEnvelope(
      executionIdOf(info.workflowId) ?? info.workflowId,
      'ERR_INPUTS',
      refused,
      unstartedMeta({ adapter: 'local', mode: 'mock' }),
    );
    throw toApplicationFailure('ERR_INPUTS', refused, { details: [envelope], terminal: true });
  }
  const { execution_id, request } = input;
  const workflow = { id: info.workflowId, run_id: info.runId };
  const state: PhaseState = { phase: 'admit', completed: [], cache_hit: false };
  setHandler(phaseQuery, () => state);
  const enter = (phase: Phase) => {
    state.phase = phase;
  };
  const done = (phase: Phase) => {
    state.completed.push(phase);
  };

  upsertSearchAttributes([
    { key: SA_EXECUTION_ID, value: execution_id },
    { key: SA_PROCESSOR_REF, value: request.processor_ref },
    { key: SA_MODE, value: request.mode },
    { key: SA_PLAN, value: request.plan },
    { key: SA_STATUS, value: 'running' },
  ]);

  // Decided once, before the first command, so a replay of an older history takes the path it was recorded on.
  const phases = patched(LOCAL_PHASES_PATCH) ? local : quick;
  let admitted: AdmitResult | undefined;
  let reserved = false;
  let reserveBegun = false;
  try {
    // The `{execution_id}` placeholder is expanded here, exactly once; adapters never expand it again.
    const write_prefix = expandWritePrefix(request.write_prefix, execution_id);
    admitted = await phases.admit({ execution_id, request, write_prefix });
    done('admit');
    upsertSearchAttributes([
      { key: SA_INPUTS_HASH, value: admitted.inputs_hash.value },
      { key: SA_IMAGE_DIGEST, value: admitted.image_digest },
    ]);

    let envelope: Envelope;
    let record = admitted.cache_hit;
    if (!record) {
      enter('reserve');
      reserveBegun = true;
      const reserveInput = { execution_id, plan: request.plan, admitted };
      let reservation = patched(LOCAL_RESERVE_PATCH)
        ? await local.reserve({ ...reserveInput, wait: false })
        : undefined;
      if (reservation === undefined || reservation.status === 'in_flight') {
        // Single-flight may wait for an identical run in progress; it heartbeats while it waits.
        reservation = await proxyActivities<Activities>({
          startToCloseTimeout: `${admitted.runtime.timeout_s + 120}s`,
          heartbeatTimeout: '20s',
          retry,
        }).reserve(reserveInput);
      }
      done('reserve');
      if (reservation.status === 'cache_hit') record = reservation.record;
      else if (reservation.status === 'reserved') reserved = true;
      else throw toApplicationFailure('ERR_INVARIANT', `Reserve waited and still answered ${reservation.status}`);
    }

    if (record) {
      state.cache_hit = true;
      upsertSearchAttributes([{ key: SA_CACHE_HIT, value: true }]);
      enter('settle');
      envelope = await phases.settleCached({
        execution_id,
        request,
        admitted,
        record,
        workflow,
        started_at: info.runStartTime.toISOString(),
      });
      done('settle');
    } else {
      upsertSearchAttributes([{ key: SA_CACHE_HIT, value: false }]);
      enter('execute');
      const executed: ExecuteResult = await proxyActivities<Activities>({
        // The adapter enforces the processor timeout itself; this is the backstop if a worker vanishes.
        startToCloseTimeout: `${admitted.runtime.timeout_s + 60}s`,
        heartbeatTimeout: '10s',
        // On cancel, wait until the adapter has killed the container before releasing budget and leases.
        cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        retry,
      }).execute({ execution_id, request, admitted });
      done('execute');
      enter('settle');
      envelope = await quick.settle({ execution_id, request, admitted, executed, workflow });
      done('settle');
    }

    enter('recheck');
    await phases.recheck({ execution_id, admitted, request, envelope });
    done('recheck');
    state.phase = 'done';
    upsertSearchAttributes([{ key: SA_STATUS, value: 'succeeded' }]);
    return envelope;
  } catch (err) {
    const code = errorCodeOf(err);
    state.phase = 'failed';
    state.error_code = code;
    // A cancelled run ends Cancelled, whether the cancel reached us directly or through the activity
    // (the adapter reports ERR_CANCELLED once it has killed the container).
    const cancelled = isCancellation(err) || CancellationScope.current().consideredCancelled;
    await CancellationScope.nonCancellable(async () => {
      const mayHoldBudget = reserved || (reserveBegun && cancelled && patched(RELEASE_CANCELLED_RESERVE_PATCH));
      if (mayHoldBudget) await quick.release({ execution_id, plan: request.plan });
    });
    upsertSearchAttributes([{ key: SA_STATUS, value: cancelled ? 'cancelled' : 'failed' }]);
    if (isCancellation(err)) throw err;
    if (cancelled) throw new CancelledFailure(codedMessage('ERR_CANCELLED', messageOf(err)));
    const envelope = errorEnvelope(
      execution_id,
      code,
      messageOf(err),
      unstartedMeta({
        adapter: request.adapter,
        mode: request.mode,
        env_fingerprint: admitted?.env_fingerprint,
        image_digest: admitted?.image_digest,
        cache_hit: state.cache_hit,
      }),
    );
    // The run fails in Temporal (visible as Failed in the UI); the error envelope travels in the details.
    throw toApplicationFailure(code, envelope.error.message, { details: [envelope], terminal: true });
  }
}

function rootCause(err: unknown): unknown {
  let current = err;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current;
}

function errorCodeOf(err: unknown): ErrorCode {
  const cause = rootCause(err);
  if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) return cause.type;
  if (cause instanceof TimeoutFailure) return 'ERR_TIMEOUT';
  if (isCancellation(err)) return 'ERR_CANCELLED';
  const fromMessage = cause instanceof Error ? codeFromMessage(cause.message) : undefined;
  return fromMessage ?? 'ERR_INTERNAL';
}

function messageOf(err: unknown): string {
  const cause = rootCause(err);
  return detailOfMessage(cause instanceof Error ? cause.message : String(cause));
}
