// Activities of the drift audit (workflows/drift-audit.ts): (a) read the pins, (b) read what the
// environment runs or publishes, (c) compare digests only. All I/O is here; the workflow only sequences.
import { failureFrom } from '../src/contracts/failure';
import {
  type DeployedSnapshot,
  type DriftReport,
  type Environment,
  type PinSnapshot,
  compareDrift,
  readDeployed,
  readPins,
} from '../src/registry/drift';
import type { OciClient } from '../src/oci/client';

export interface DriftActivityDeps {
  readonly client: OciClient;
  readonly registryDir: string;
  /** Folder holding deployments/<env>.json (normally <repo>/deployments). */
  readonly deploymentsDir: string;
}

async function coded<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // Catalogue codes become typed failures so the retry policy skips the non-retryable ones.
    throw failureFrom(err);
  }
}

export function createDriftActivities(deps: DriftActivityDeps) {
  return {
    async driftReadPins(): Promise<PinSnapshot[]> {
      return coded(() => readPins(deps.registryDir));
    },
    async driftReadDeployed(input: { env: Environment; pins: PinSnapshot[] }): Promise<DeployedSnapshot[]> {
      return coded(() =>
        readDeployed({ client: deps.client, deploymentsDir: deps.deploymentsDir, env: input.env, pins: input.pins }),
      );
    },
    async driftCompare(input: {
      env: Environment;
      pins: PinSnapshot[];
      deployed: DeployedSnapshot[];
    }): Promise<DriftReport> {
      return coded(() => compareDrift(input.env, input.pins, input.deployed));
    },
  };
}

export type DriftActivities = ReturnType<typeof createDriftActivities>;
