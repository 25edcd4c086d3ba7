// A cancel that reaches a run while its Reserve is under way must not leave budget reserved (ADR 0023, patch
// release-cancelled-reserve-v1). The real workflow, server, activities and ledger; only Reserve is held open
// after it has written its reservation, so the cancel lands exactly in that window.
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import type { ReserveInput } from '../../activities/types';
import { createLogger } from '../../src/log';
import { buildActivityDeps } from '../../src/temporal/worker';
import { integrationEnv } from './env';
import { startActivitiesWorker, startLoopHarness, type LoopHarness } from './loop-harness';

let h: LoopHarness;
let worker: { shutdown(): Promise<void> } | undefined;
/** Executions whose Reserve has written its reservation and now waits for the cancel. */
const held = new Set<string>();

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv(), { embeddedWorker: false });
  const logger = createLogger({ level: 'error' });
  const activities = createActivities(await buildActivityDeps(h.cfg, h.client, logger));
  worker = await startActivitiesWorker(
    h,
    {
      ...activities,
      async reserve(input: ReserveInput) {
        const out = await activities.reserve(input);
        if (out.status === 'reserved') {
          held.add(input.execution_id);
          // Until the workflow's cancel reaches this attempt (or 60 s pass): the reservation is already written.
          await Promise.race([Context.current().cancelled, new Promise((r) => setTimeout(r, 60_000))]).catch(
            () => undefined,
          );
        }
        return out;
      },
    },
    logger,
  );
}, 900_000);

afterAll(async () => {
  await worker?.shutdown();
  await h?.close();
});

describe('a run cancelled while Reserve is under way', () => {
  it('ends Cancelled and holds no budget: the reservation Reserve wrote is released', async () => {
    const { execution_id, handle } = await h.start({ processor_ref: 'text/stats@1', inputs: { text: 'cancel me' } });
    for (let i = 0; i < 600 && !held.has(execution_id); i++) await new Promise((r) => setTimeout(r, 50));
    expect(held.has(execution_id)).toBe(true);
    const before = await h.world.ledger.getPlan('default');
    expect(before.reservations.find((r) => r.execution_id === execution_id)?.status).toBe('reserved');

    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

    const after = await h.world.ledger.getPlan('default');
    expect(after.reservations.find((r) => r.execution_id === execution_id)?.status).toBe('released');
    expect(after.reserved_micro).toBe(0);
    expect(after.available_micro).toBe(10_000_000);
  }, 120_000);
});
