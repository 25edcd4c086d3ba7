// Replays the committed histories (tests/replay/histories/*.json, recorded from real runs by
// `npm run replay:record`) against today's workflow code. A change that would break a running workflow
// fails here, before it ships; the negative case proves the check can fail.
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';

const dir = join(REPO_ROOT, 'tests', 'replay', 'histories');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const histories = files.map((file) => ({
  file,
  workflowId: file.replace(/\.json$/, ''),
  // Raw JSON: the worker converts it with its own protobuf classes (historyFromJSON inside vitest's module
  // graph would bind a second copy of them).
  history: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown,
}));

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
let current: { code: string };
let altered: { code: string };

beforeAll(async () => {
  [current, altered] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: join(REPO_ROOT, 'workflows', 'index.ts'), logger: quiet }),
    bundleWorkflowCode({
      workflowsPath: join(REPO_ROOT, 'tests', 'replay', 'altered-workflows', 'index.ts'),
      logger: quiet,
    }),
  ]);
}, 120_000);

describe('replay of recorded histories', () => {
  it('has histories to replay: success, cache hit and failure paths', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  for (const h of histories) {
    it(`replays ${h.file} deterministically`, async () => {
      await Worker.runReplayHistory({ workflowBundle: current }, h.history, h.workflowId);
    });
  }

  it('catches a non-deterministic change (negative case)', async () => {
    const h = histories[0]!;
    await expect(Worker.runReplayHistory({ workflowBundle: altered }, h.history, h.workflowId)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });
});
