// The one mapping between a run's execution id and its Temporal workflow id (docs/architecture.md §2: `run/<id>`).
// Pure, so workflows, the worker, the client module and tests all spell it through these two functions.

const RUN_WORKFLOW_ID_PREFIX = 'run/';

/** `run/<execution_id>`: the workflow id of the run whose proposer created `executionId`. */
export function runWorkflowId(executionId: string): string {
  return `${RUN_WORKFLOW_ID_PREFIX}${executionId}`;
}

/** The execution id inside a run's workflow id; undefined for a workflow that is not a run. */
export function executionIdOf(workflowId: string): string | undefined {
  return workflowId.startsWith(RUN_WORKFLOW_ID_PREFIX) ? workflowId.slice(RUN_WORKFLOW_ID_PREFIX.length) : undefined;
}
