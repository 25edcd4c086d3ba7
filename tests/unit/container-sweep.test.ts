// Container removal after the record (ADR 0024): Execute returns once its
// record is written and removes the kept container in the background; the sweep removes exactly the stopped
// containers whose execution is recorded, so a failed or interrupted removal leaks nothing and a container an
// attempt may still adopt stays. Real activities and world store; an adapter that remembers its containers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backgroundDiscardsFinished, sweepContainers } from '../../activities/container-sweep';
import { startWorkdirSweeper } from '../../activities/workdir';
import { recordExecute } from '../../activities/execute-record';
import { echoScript, phaseEnv, upToSettle, type PhaseEnv } from './phase-harness';
import { join } from 'node:path';

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

/** The scripted adapter plus a container table: invoke leaves a stopped container, discard removes it. */
function withContainers(e: PhaseEnv, discard: (id: string) => Promise<void> = async () => undefined) {
  const stopped = new Set<string>();
  const invoke = e.adapter.invoke.bind(e.adapter);
  e.adapter.invoke = async (args) => {
    const outcome = await invoke(args);
    stopped.add(args.execution_id);
    return outcome;
  };
  Object.assign(e.adapter, {
    stoppedContainers: () => Promise.resolve([...stopped].sort()),
    discard: async (id: string) => {
      await discard(id);
      stopped.delete(id);
    },
  });
  return stopped;
}

const quiet = { ...console, warn: () => undefined };

describe('container removal after the record', () => {
  it('Execute returns before the removal finishes; the removal then happens', async () => {
    env = await phaseEnv({ script: echoScript });
    let finishRemoval!: () => void;
    const removalHeld = new Promise<void>((resolve) => (finishRemoval = resolve));
    const stopped = withContainers(env, () => removalHeld);
    const { executed } = await upToSettle(env, 'bg1');
    // Execute has returned its result although the engine has not removed the container yet.
    expect(executed.staging.status).toBe('staged');
    expect([...stopped]).toEqual(['bg1']);
    finishRemoval();
    await vi.waitFor(() => expect(stopped.size).toBe(0));
  });

  it('a worker stopping waits for the removals still under way', async () => {
    env = await phaseEnv({ script: echoScript });
    let finishRemoval!: () => void;
    const removalHeld = new Promise<void>((resolve) => (finishRemoval = resolve));
    const stopped = withContainers(env, () => removalHeld);
    await upToSettle(env, 'bg-stop');
    let finished = false;
    const waiting = backgroundDiscardsFinished().then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(finished).toBe(false);
    finishRemoval();
    await waiting;
    expect([...stopped]).toEqual([]);
  });

  it('a removal that fails is logged, not thrown; the sweep removes the container later', async () => {
    env = await phaseEnv({ script: echoScript });
    const warn = vi.spyOn(env.deps.logger, 'warn');
    let engineAway = true;
    const stopped = withContainers(env, async () => {
      if (engineAway) throw new Error('engine away');
    });
    const { executed } = await upToSettle(env, 'bg2');
    expect(executed.staging.status).toBe('staged');
    await vi.waitFor(() => expect(warn).toHaveBeenCalled());
    expect([...stopped]).toEqual(['bg2']);
    engineAway = false;
    expect(await sweepContainers(env.deps)).toEqual({ removed: ['bg2'], kept: 0 });
    expect(stopped.size).toBe(0);
  });

  it('the sweep removes only recorded executions: an unrecorded stopped container may still be adopted', async () => {
    env = await phaseEnv();
    const stopped = withContainers(env);
    for (const id of ['rec', 'unrec']) stopped.add(id);
    const at = new Date().toISOString();
    await recordExecute(env.world, 'rec', {
      envelope: {
        status: 'error',
        execution_id: 'rec',
        error: { code: 'ERR_PROCESSOR_FAILED', message: 'exit 1' },
        meta: {
          env_fingerprint: 'x',
          image_digest: 'x',
          adapter: 'local',
          mode: 'mock',
          duration_ms: 0,
          cache_hit: false,
          cost_micro: 0,
        },
      },
      exit_code: 1,
      started_at: at,
      finished_at: at,
    });
    expect(await sweepContainers(env.deps)).toEqual({ removed: ['rec'], kept: 1 });
    expect([...stopped]).toEqual(['unrec']);
    // A second sweep finds nothing more to do.
    expect(await sweepContainers(env.deps)).toEqual({ removed: [], kept: 1 });
  });

  it('the worker sweeper runs the container sweep with the workdir sweep', async () => {
    env = await phaseEnv();
    const sweepContainersHook = vi.fn(() => Promise.resolve());
    const sweeper = startWorkdirSweeper(
      {
        runsDir: join(env.dir, 'runs'),
        isRunning: async () => false,
        sweepContainers: sweepContainersHook,
        logger: quiet,
      },
      60_000,
    );
    await sweeper.stop();
    expect(sweepContainersHook).toHaveBeenCalledTimes(1);
  });
});
