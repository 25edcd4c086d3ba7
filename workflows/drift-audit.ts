// The drift audit as a workflow, so a Temporal Schedule can run it and every run's result (the report)
// or failure (ERR_DRIFT on main) stays visible in the Web UI. Deterministic: it only sequences the three
// activities of activities/drift.ts and decides pass/fail from their data.
import { proxyActivities } from '@temporalio/workflow';
import type { DriftActivities } from '../activities/drift';
import { NON_RETRYABLE_CODES, toApplicationFailure } from '../src/contracts/failure';
import type { DriftReport, Environment } from '../src/registry/drift';

const { driftReadPins, driftReadDeployed, driftCompare } = proxyActivities<DriftActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, initialInterval: '2s', nonRetryableErrorTypes: NON_RETRYABLE_CODES },
});

export interface DriftAuditInput {
  readonly env: Environment;
}

export const DRIFT_ENVIRONMENTS: readonly Environment[] = ['dev', 'staging', 'main'];

export async function driftAudit(input: DriftAuditInput): Promise<DriftReport> {
  if (!DRIFT_ENVIRONMENTS.includes(input.env)) {
    throw toApplicationFailure(
      'ERR_USAGE',
      `unknown environment ${JSON.stringify(input.env)}; expected dev, staging or main`,
      { terminal: true },
    );
  }
  const pins = await driftReadPins();
  const deployed = await driftReadDeployed({ env: input.env, pins });
  const report = await driftCompare({ env: input.env, pins, deployed });
  if (report.failed) {
    // main fails closed: the run is Failed in the UI, with the full report attached.
    const bad = report.rows.filter((r) => r.status !== 'ok');
    throw toApplicationFailure(
      'ERR_DRIFT',
      `${input.env}: ${bad.map((r) => `${r.ref} ${r.status} (${r.detail})`).join('; ')}`,
      { details: [report], terminal: true },
    );
  }
  return report;
}
