// `worldloop replay` against a real Temporal server: a real run of text/stats@1, its history exported from
// the cluster by a visibility query (--export), replayed from the files (--dir) and straight from the
// cluster (--query --last), deterministic on today's code; the altered workflow fails naming the run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

let h: LoopHarness;
let executionId = '';

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv());
  const { execution_id, envelope } = await h.run({
    processor_ref: 'text/stats@1',
    inputs: { text: 'replay me' },
    cache: false,
  });
  expect(envelope.status).toBe('success');
  executionId = execution_id;
});
afterAll(async () => {
  await h?.close();
});

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'worldloop.js'), 'replay', ...args], {
    env: h.env,
    encoding: 'utf8',
    timeout: 280_000,
  });

describe('worldloop replay against the cluster', () => {
  const query = () => `WorkflowId='run/${executionId}'`;

  it('exports the matching run and replays the files deterministically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wl-replay-export-'));
    const exported = cli('--export', dir, '--query', query(), '--last', '5', '--json');
    expect(exported.status, exported.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual([expect.stringMatching(new RegExp(`^run_${executionId}\\.[0-9a-f-]+\\.json$`))]);
    const replayed = cli('--dir', dir, '--json');
    expect(replayed.status, replayed.stderr).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ ok: true, replayed: 1, failed: 0 });
  });

  it('replays straight from the cluster, and the altered code fails naming the workflow and run', () => {
    const ok = cli('--query', query(), '--last', '1', '--json');
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, replayed: 1 });
    const bad = cli(
      '--query',
      query(),
      '--last',
      '1',
      '--workflows',
      join(REPO_ROOT, 'tests/replay/altered-workflows/index.ts'),
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      new RegExp(`^ERR_REPLAY_NONDETERMINISM: workflow run/${executionId} run \\S+ event \\d+`),
    );
  });

  it('says so when no run matches (ERR_REPLAY_HISTORY, exit 2)', () => {
    const none = cli('--query', "WorkflowId='run/no-such-run'", '--last', '1');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^ERR_REPLAY_HISTORY: /);
  });
});
