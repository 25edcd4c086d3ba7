// The post-deploy probes' decisions (src/lanes/deploy-probe.ts), with the runs handed in: which outcomes pass,
// which fail the lane (ERR_DEPLOY_PROBE naming the processor and what it saw), and the create-only record.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { errorEnvelope } from '../../src/contracts/envelope';
import { WorldloopError, type ErrorCode } from '../../src/contracts/errors';
import type { Envelope, EnvelopeMeta, RegistryEntry } from '../../src/contracts/schemas';
import {
  probeFailure,
  probeInputs,
  recordProbeReport,
  runDeployProbes,
  type ProbeRuns,
} from '../../src/lanes/deploy-probe';
import { loadRegistry } from '../../src/registry/registry';

const ID = '019ac1f0-0000-7000-8000-0000000000bb';
const META: EnvelopeMeta = {
  env_fingerprint: 'x',
  image_digest: `sha256:${'ab'.repeat(32)}`,
  adapter: 'modal',
  mode: 'mock',
  duration_ms: 1,
  cache_hit: false,
  cost_micro: 0,
};
const success: Envelope = {
  status: 'success',
  execution_id: ID,
  outputs: ['world://artifacts/x/outputs/a'],
  index_path: 'world://artifacts/x/outputs.json',
  meta: META,
};
const failed = (code: ErrorCode): Envelope => errorEnvelope(ID, code, `${code} happened`, META);

const entries = async (): Promise<RegistryEntry[]> =>
  [...(await loadRegistry(join(REPO_ROOT, 'registry'))).values()].map((r) => r.entry);

function runs(mock: () => Envelope | Error, negative: () => Envelope | Error): ProbeRuns & { calls: string[] } {
  const calls: string[] = [];
  const answer = (v: Envelope | Error) => (v instanceof Error ? Promise.reject(v) : Promise.resolve(v));
  return {
    calls,
    mockRun: (entry, inputs) => {
      calls.push(`mock ${entry.ref} ${JSON.stringify(inputs)}`);
      return answer(mock());
    },
    negativeRun: (entry) => {
      calls.push(`negative ${entry.ref}`);
      return answer(negative());
    },
  };
}

describe('the post-deploy probes', () => {
  it('pass: every processor settles in mock mode; the one needing a secret refuses without it', async () => {
    const r = runs(
      () => success,
      () => failed('ERR_MISSING_SECRET'),
    );
    const report = await runDeployProbes('dev', await entries(), r);
    expect(report.ok).toBe(true);
    expect(report.results.map((x) => [x.ref, x.probe, x.verdict, x.saw])).toEqual([
      ['llm/chat@1', 'mock-validation', 'passed', 'success'],
      ['llm/chat@1', 'negative', 'passed', 'ERR_MISSING_SECRET'],
      ['text/stats@1', 'mock-validation', 'passed', 'success'],
      ['text/stats@1', 'negative', 'skipped', ''],
    ]);
    // Schema-derived inputs; no negative run for a processor without secrets.
    expect(r.calls).toEqual([
      `mock llm/chat@1 ${JSON.stringify(probeInputs((await entries()).find((e) => e.ref === 'llm/chat@1')!))}`,
      'negative llm/chat@1',
      `mock text/stats@1 {"text":"hello world"}`,
    ]);
  });

  it.each([
    ['success', () => success],
    ['another code', () => failed('ERR_PROVIDER_AUTH')],
    ['a run that could not start', () => new WorldloopError('ERR_ADAPTER_UNAVAILABLE', 'Modal unreachable')],
  ] as const)('the negative probe ending in %s fails the lane with ERR_DEPLOY_PROBE', async (_label, negative) => {
    const report = await runDeployProbes(
      'main',
      await entries(),
      runs(() => success, negative),
    );
    expect(report.ok).toBe(false);
    const err = probeFailure(report);
    expect(err.code).toBe('ERR_DEPLOY_PROBE');
    expect(err.message).toMatch(/llm\/chat@1 negative saw (success|ERR_PROVIDER_AUTH|ERR_ADAPTER_UNAVAILABLE)/);
    expect(err.message).not.toMatch(/text\/stats@1/);
  });

  it('a processor that does not settle in mock mode fails the lane, named with its code', async () => {
    const report = await runDeployProbes(
      'staging',
      await entries(),
      runs(
        () => failed('ERR_IMAGE_PULL'),
        () => failed('ERR_MISSING_SECRET'),
      ),
    );
    expect(report.ok).toBe(false);
    expect(probeFailure(report).message).toMatch(/text\/stats@1 mock-validation saw ERR_IMAGE_PULL/);
  });

  it('keeps each report create-only under probes/, never overwriting another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wl-probe-record-'));
    const report = await runDeployProbes(
      'dev',
      await entries(),
      runs(
        () => success,
        () => failed('ERR_MISSING_SECRET'),
      ),
    );
    const at = new Date(0);
    const file = await recordProbeReport(dir, report, { by: 'ci', at, id: ID });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ env: 'dev', ok: true, by: 'ci' });
    await expect(recordProbeReport(dir, report, { by: 'ci', at, id: ID })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readdirSync(join(dir, 'probes'))).toEqual([`dev-1970-01-01T00-00-00-000Z-${ID.slice(-12)}.json`]);
  });
});
