// The pure parts of the client role: the run/<execution_id> mapping, the visibility query of a run
// filter, and the CLI's phase line. (Starting, describing and listing runs against a real dev server is
// covered by tests/integration/run-loop.test.ts through the loop harness, which uses the same module.)
import { describe, expect, it } from 'vitest';
import { executionIdOf, runWorkflowId } from '../../src/contracts/workflow-id';
import { runsQuery } from '../../src/temporal/client';
import { renderPhases } from '../../src/cli/phase-display';

const ID = '01936f8e-7c2a-7d4e-9b1a-0c2d3e4f5a6b';

describe('workflow id ↔ execution id', () => {
  it('round-trips and refuses workflows that are not runs', () => {
    expect(runWorkflowId(ID)).toBe(`run/${ID}`);
    expect(executionIdOf(runWorkflowId(ID))).toBe(ID);
    expect(executionIdOf(`drift/${ID}`)).toBeUndefined();
    expect(executionIdOf(ID)).toBeUndefined();
  });
});

describe('runsQuery', () => {
  it('lists runProcessor workflows, narrowed by typed search attributes', () => {
    expect(runsQuery()).toBe(`WorkflowType = 'runProcessor'`);
    expect(runsQuery({ processor_ref: 'text/stats@1', mode: 'mock', plan: 'team-a', status: 'succeeded' })).toBe(
      `WorkflowType = 'runProcessor' AND WorldloopProcessorRef = 'text/stats@1' AND WorldloopMode = 'mock'` +
        ` AND WorldloopPlan = 'team-a' AND WorldloopStatus = 'succeeded'`,
    );
  });
  it('narrows to runs started before an instant', () => {
    expect(
      runsQuery({ processor_ref: 'text/stats@1', startedBefore: new Date(Date.UTC(2026, 10, 27, 2, 3, 4, 5)) }),
    ).toBe(
      `WorkflowType = 'runProcessor' AND WorldloopProcessorRef = 'text/stats@1' AND StartTime < '2026-11-27T02:03:04.005Z'`,
    );
  });
  it.each([`x' OR WorkflowType != '`, 'a b', '', 'x'.repeat(201), 'é'])('refuses %j as a value (ERR_USAGE)', (v) => {
    expect(() => runsQuery({ plan: v })).toThrow(/^\[ERR_USAGE\] WorldloopPlan filter/);
  });
});

describe('renderPhases', () => {
  it('shows progress, cache-hit skips and the failed phase', () => {
    expect(renderPhases(undefined, 0)).toBe('admit  reserve  execute  settle  recheck  0.0s');
    expect(renderPhases({ phase: 'execute', completed: ['admit', 'reserve'], cache_hit: false }, 1234)).toBe(
      'admit ✓  reserve ✓  execute …  settle  recheck  1.2s',
    );
    expect(renderPhases({ phase: 'done', completed: ['admit', 'settle', 'recheck'], cache_hit: true }, 300)).toBe(
      'admit ✓  reserve –  execute –  settle ✓  recheck ✓ (cache hit)  0.3s',
    );
    expect(renderPhases({ phase: 'failed', completed: ['admit'], cache_hit: false }, 0)).toBe(
      'admit ✓  reserve ✗  execute  settle  recheck  0.0s',
    );
  });
});
