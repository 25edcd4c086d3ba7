// Workers keep no state of their own (issue 12 part 3): a run's workdir goes once Execute has recorded the
// outcome in the world store, a retry after that never runs the processor again, Settle retried after the
// cleanup is still idempotent, and the sweep removes what a crashed worker left only for closed runs.
// Real activities over a real world store and ledger in a temp folder; a scripted adapter plays the processor.
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterEach, describe, expect, it } from 'vitest';
import { readExecuteRecord, executeRecordName, recordExecute } from '../../activities/execute-record';
import { WorldloopError } from '../../src/contracts';
import type { Adapter } from '../../src/adapters/adapter';
import { sweepWorkdirs } from '../../activities/workdir';
import { ReceiptSchema } from '../../src/contracts';
import { determinismPath } from '../../src/contracts/write-prefix';
import {
  PLAN,
  admit,
  echoScript,
  execute,
  failureCode,
  inActivity,
  phaseEnv,
  reserve,
  upToSettle,
  type PhaseEnv,
} from './phase-harness';

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

describe('the workdir lives only until the run has an outcome', () => {
  it('is gone after a successful Execute; the outcome is recorded in the world store', async () => {
    env = await phaseEnv();
    const { executed } = await upToSettle(env, 'ok1');
    expect(executed.staging.status).toBe('staged');
    expect(existsSync(env.deps.workdirFor('ok1'))).toBe(false);
    const record = await readExecuteRecord(env.world, 'ok1');
    expect(record?.envelope.status).toBe('success');
    expect(record?.staging).toEqual(executed.staging);
  });

  it('is gone after a failed run: the processor failure is recorded, Release leaves nothing', async () => {
    env = await phaseEnv({
      script: async (out) => {
        await writeFile(join(out, 'partial.txt'), 'half');
        throw new Error('processor crashed');
      },
    });
    // The scripted adapter throws like an engine error would; a recorded processor failure is below.
    const admitted = await admit(env, 'f1');
    await reserve(env, 'f1', admitted);
    expect(await failureCode(execute(env, 'f1', admitted))).toBe('ERR_INTERNAL');
    // A thrown (retryable) failure keeps the workdir for the retry …
    expect(existsSync(env.deps.workdirFor('f1'))).toBe(true);
    // … and the failed run's compensation removes it.
    await inActivity(env.activities.release, { execution_id: 'f1', plan: PLAN });
    expect(existsSync(env.deps.workdirFor('f1'))).toBe(false);
    expect((await env.plans.getPlan(PLAN)).reserved_micro).toBe(0);
  });

  it('an error envelope is recorded, the workdir removed, and a retry answers the same code without running again', async () => {
    env = await phaseEnv();
    const adapter = env.adapter;
    const invoke = adapter.invoke.bind(adapter);
    adapter.invoke = async (args) => {
      const outcome = await invoke(args);
      return {
        ...outcome,
        exit_code: 3,
        envelope: {
          status: 'error',
          execution_id: args.execution_id,
          error: { code: 'ERR_PROCESSOR_FAILED', message: 'exit 3' },
          meta: outcome.envelope.meta,
        },
      };
    };
    const admitted = await admit(env, 'f2');
    expect(await failureCode(execute(env, 'f2', admitted))).toBe('ERR_PROCESSOR_FAILED');
    expect(existsSync(env.deps.workdirFor('f2'))).toBe(false);
    expect(await failureCode(execute(env, 'f2', admitted))).toBe('ERR_PROCESSOR_FAILED');
    expect(adapter.invocations).toBe(1);
  });

  it('an Execute retried after the cleanup returns the recorded result and never invokes the adapter again', async () => {
    env = await phaseEnv();
    const admitted = await admit(env, 'r1');
    await reserve(env, 'r1', admitted);
    const first = await execute(env, 'r1', admitted);
    expect(existsSync(env.deps.workdirFor('r1'))).toBe(false);
    const again = await execute(env, 'r1', admitted);
    expect(again).toEqual(first);
    expect(env.adapter.invocations).toBe(1);
  });

  it('an attempt that fails after another worker recorded the outcome returns that outcome; the kept container goes', async () => {
    // The cross-worker race of the 200-run test (ADR 0020-execution-container-lock): this attempt lost its
    // container to a retry elsewhere, which recorded the outcome first.
    env = await phaseEnv();
    const admitted = await admit(env, 'c1');
    const world = env.world;
    const discarded: string[] = [];
    let lock: { keepContainer?: boolean; recordedBefore?: boolean; recordedAfter?: boolean } = {};
    const adapter: Adapter = env.adapter; // the scripted one, with the lock's parts of the interface
    adapter.discard = (id) => Promise.resolve(void discarded.push(id));
    adapter.invoke = async (args, ctl) => {
      lock = { keepContainer: ctl?.keepContainer, recordedBefore: await ctl?.recordedElsewhere?.() };
      const at = new Date().toISOString();
      const meta = { env_fingerprint: 'x', image_digest: 'x', adapter: 'local' as const, mode: 'mock' as const };
      await recordExecute(world, args.execution_id, {
        envelope: {
          status: 'error',
          execution_id: args.execution_id,
          error: { code: 'ERR_PROCESSOR_FAILED', message: 'exit 3 (recorded by the other worker)' },
          meta: { ...meta, duration_ms: 0, cache_hit: false, cost_micro: 0 },
        },
        exit_code: 3,
        started_at: at,
        finished_at: at,
      });
      lock.recordedAfter = await ctl?.recordedElsewhere?.();
      throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', 'the container went away under this attempt');
    };
    expect(await failureCode(execute(env, 'c1', admitted))).toBe('ERR_PROCESSOR_FAILED');
    expect(lock).toEqual({ keepContainer: true, recordedBefore: false, recordedAfter: true });
    // The next attempt reads the record and removes the container the adapter kept.
    expect(await failureCode(execute(env, 'c1', admitted))).toBe('ERR_PROCESSOR_FAILED');
    expect(discarded).toEqual(['c1']);
  });

  it('a record that is not this execution’s is refused, never run over', async () => {
    env = await phaseEnv();
    const admitted = await admit(env, 'x1');
    await env.world.putJsonIfAbsent(executeRecordName('x1'), { record_schema: 'something-else' });
    expect(await failureCode(execute(env, 'x1', admitted))).toBe('ERR_INVARIANT');
    expect(env.adapter.invocations).toBe(0);
  });

  it('Settle retried after the workdir is gone is idempotent: one receipt, charged once', async () => {
    env = await phaseEnv({ script: echoScript });
    const { settleInput } = await upToSettle(env, 's1');
    expect(existsSync(env.deps.workdirFor('s1'))).toBe(false);
    const first = await inActivity(env.activities.settle, settleInput);
    const receiptBytes = await env.world.readBytes(determinismPath('s1'));
    const second = await inActivity(env.activities.settle, settleInput);
    expect(second).toEqual(first);
    expect(await env.world.readBytes(determinismPath('s1'))).toEqual(receiptBytes);
    expect(ReceiptSchema.parse(JSON.parse(new TextDecoder().decode(receiptBytes))).cost_micro).toBe(7);
    const plan = await env.plans.getPlan(PLAN);
    expect(plan.reservations.filter((r) => r.execution_id === 's1').map((r) => r.status)).toEqual(['charged']);
    expect(plan.spent_micro).toBe(7);
    expect((await env.plans.verifyPlan(PLAN)).ok).toBe(true);
  });
});

describe('the sweep removes what a crashed worker left', () => {
  it('removes the workdirs (and secrets folders) of closed runs, keeps open ones and anything not ours', async () => {
    env = await phaseEnv();
    const runs = join(env.dir, 'runs');
    const [closed, open, unknown] = [uuidv7(), uuidv7(), uuidv7()];
    for (const name of [closed, `secrets-${closed}`, open, unknown, 'not-a-run']) {
      await mkdir(join(runs, name, 'out'), { recursive: true });
      await writeFile(join(runs, name, 'out', 'f'), 'x');
    }
    const running = new Set([open]);
    const report = await sweepWorkdirs({
      runsDir: runs,
      isRunning: async (id) => {
        if (id === unknown) throw new Error('server unreachable');
        return running.has(id);
      },
    });
    expect(report.removed.sort()).toEqual([closed, `secrets-${closed}`].sort());
    expect(report).toMatchObject({ kept: 1, unknown: 1 });
    expect((await readdir(runs)).sort()).toEqual([open, unknown, 'not-a-run'].sort());
    // Once the open run closes, the next sweep takes it.
    running.clear();
    const next = await sweepWorkdirs({ runsDir: runs, isRunning: async (id) => running.has(id) });
    expect(next.removed.sort()).toEqual([open, unknown].sort());
  });

  it('a missing runs folder is an empty sweep', async () => {
    env = await phaseEnv();
    const report = await sweepWorkdirs({ runsDir: join(env.dir, 'nope'), isRunning: async () => false });
    expect(report).toEqual({ removed: [], kept: 0, unknown: 0 });
  });
});
