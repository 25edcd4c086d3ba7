// Re-check through the real activity: success predicates against what landed; a failure quarantines the
// run's outputs and index (recorded, nothing deleted).
import { afterEach, describe, expect, it } from 'vitest';
import type { Predicate } from '../../src/contracts';
import {
  failureCode,
  inActivity,
  phaseEnv,
  prefixOf,
  registryEntry,
  request,
  settle,
  type PhaseEnv,
} from './phase-harness';

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const withSuccess = (success: Predicate[]) => registryEntry({ predicates: { admission: [], success } });

async function settledRun(success: Predicate[]) {
  env = await phaseEnv({ entry: withSuccess(success) });
  const envelope = await settle(env, 'e1');
  const admitted = await inActivity(env.activities.admit, {
    execution_id: 'e1',
    request: request({ cache: false }),
    write_prefix: prefixOf('e1'),
  });
  return { e: env, envelope, admitted };
}

describe('recheck', () => {
  it('passes when every success predicate holds, and quarantines nothing', async () => {
    const { e, envelope, admitted } = await settledRun([
      { kind: 'outputs.count_between', min: 1, max: 1 },
      { kind: 'file.size_lte', path: 'outputs/result.txt', bytes: 5 },
      { kind: 'artifact.exists', path: 'outputs.json' },
    ]);
    await inActivity(e.activities.recheck, { execution_id: 'e1', admitted, request: request(), envelope });
    expect(await e.world.isQuarantined(envelope.outputs[0]!)).toBe(false);
  });

  it('a failing predicate → ERR_PREDICATE_FAILED; outputs and index quarantined, still readable', async () => {
    const { e, envelope, admitted } = await settledRun([
      { kind: 'file.size_lte', path: 'outputs/result.txt', bytes: 4 },
    ]);
    const code = await failureCode(
      inActivity(e.activities.recheck, { execution_id: 'e1', admitted, request: request(), envelope }),
    );
    expect(code).toBe('ERR_PREDICATE_FAILED');
    for (const path of [...envelope.outputs, envelope.index_path]) {
      expect(await e.world.quarantineMarker(path)).toMatchObject({
        execution_id: 'e1',
        reason: expect.stringMatching(/5 bytes, limit 4/),
      });
    }
    expect(new TextDecoder().decode(await e.world.readBytes(envelope.outputs[0]!))).toBe('hello');
  });

  it("a run's own success predicate (from the request, merged by Admit) counts too", async () => {
    const { e, envelope } = await settledRun([]);
    const req = request({
      predicates: { admission: [], success: [{ kind: 'outputs.count_between', min: 2, max: 3 }] },
    });
    const admitted = await inActivity(e.activities.admit, {
      execution_id: 'e1',
      request: req,
      write_prefix: prefixOf('e1'),
    });
    const code = await failureCode(
      inActivity(e.activities.recheck, { execution_id: 'e1', admitted, request: req, envelope }),
    );
    expect(code).toBe('ERR_PREDICATE_FAILED');
    expect(await e.world.isQuarantined(envelope.outputs[0]!)).toBe(true);
  });
});
