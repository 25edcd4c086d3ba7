// Everything the phase activities need, built once by the worker bootstrap (src/temporal/worker.ts) and
// handed over through createActivities(deps). Tests pass their own objects of the same types.
import type { Logger } from 'pino';
import type { Adapter } from '../src/adapters/adapter';
import type { AdapterName, Mode, Platform, RegistryEntry } from '../src/contracts';
import type { RunMetrics } from '../src/metrics';
import type { Signer } from '../src/provenance';
import type { SecretResolver } from '../src/secrets';
import type { Leases, Ledger, WorldStore } from '../src/world';

export interface FlightOwnerProbe {
  /** Whether the run that owns a single-flight slot is still going (looked up in Temporal). */
  isRunning(executionId: string): Promise<boolean>;
}

export interface ActivityDeps {
  /** CI == "true": the guard refuses real mode again here, on the worker (docs/architecture.md §3). */
  ci: boolean;
  version: string;
  /** The platform this worker's local adapter runs (its CPU architecture). */
  platform: Platform;
  getEntry(ref: string): RegistryEntry;
  world: WorldStore;
  plans: Ledger;
  leases: Leases;
  adapters: Partial<Record<AdapterName, Adapter>>;
  secretsFor(mode: Mode): SecretResolver;
  /** Where declared processor settings are read (Config.processorConfigEnv; ADR 0009). */
  processorConfigEnv: Readonly<Record<string, string | undefined>>;
  /** A host folder owned by one execution, stable across retries of Execute. */
  workdirFor(executionId: string): string;
  flights: FlightOwnerProbe;
  /** Signs each settled run's attestation (docs/provenance.md); its keyid is recorded in envelope and statement. */
  signer: Signer;
  logger: Logger;
  /** Prometheus metrics of this worker; absent when metrics are off (the phase wrapper feeds them). */
  metrics?: RunMetrics;
}
