// ADR 0010 where no worldloop parser runs: a foreign client (the Temporal CLI, writing the start payload's
// JSON text itself) starts `runProcessor` with a number literal a double cannot hold. The worker's payload
// codec must refuse it with ERR_INPUTS and the pointer; without the codec the SDK's JSON.parse would round
// it and the run would hash (and cache) as another input. The same client with an exact literal runs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWritePrefix } from '../../src/contracts/write-prefix';
import { runWorkflowId } from '../../src/contracts/workflow-id';
import { runEnvelope, runHandle } from '../../src/temporal/client';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const exec = promisify(execFile);
let h: LoopHarness;

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv());
}, 900_000);

afterAll(async () => {
  await h?.close();
});

/** Starts a run through the Temporal CLI with `inputsJson` spliced verbatim into the payload text. */
async function startForeign(inputsJson: string): Promise<string> {
  const execution_id = uuidv7();
  const request = JSON.stringify({
    processor_ref: 'text/stats@1',
    inputs: { __INPUTS__: 0 },
    mode: 'mock',
    plan: 'default',
    write_prefix: defaultWritePrefix('text/stats@1'),
    adapter: 'local',
    cache: false,
  }).replace('{"__INPUTS__":0}', inputsJson);
  const cli = await findTemporalCli(h.cfg);
  await exec(cli.path, [
    'workflow',
    'start',
    '--address',
    integrationEnv().temporalAddress,
    '--namespace',
    integrationEnv().namespace,
    '--task-queue',
    h.cfg.temporal.taskQueue,
    '--type',
    'runProcessor',
    '--workflow-id',
    runWorkflowId(execution_id),
    '--input',
    `{"execution_id":"${execution_id}","request":${request}}`,
  ]);
  return execution_id;
}

describe('a foreign client’s JSON text reaches the exact-number rule', () => {
  it('refuses 12345678901234567890 with ERR_INPUTS and the pointer, before any phase runs', async () => {
    const id = await startForeign('{"text":"x","n":12345678901234567890}');
    const envelope = await runEnvelope(runHandle(h.client, id));
    expect(envelope.status).toBe('error');
    if (envelope.status !== 'error') return;
    expect(envelope.error.code).toBe('ERR_INPUTS');
    expect(envelope.error.message).toMatch(
      /inexact number at "\/request\/inputs\/n": 12345678901234567890 .*send it as a string/,
    );
    const history = await runHandle(h.client, id).fetchHistory();
    const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled).toEqual([]);
  });

  it('runs the same client’s request when every literal is exact', async () => {
    const id = await startForeign('{"text":"exact 4.50 1e30"}');
    const envelope = await runEnvelope(runHandle(h.client, id));
    expect(envelope.status, JSON.stringify(envelope)).toBe('success');
  });
});
