// What the Temporal history says about a run — the facts `worldloop verify` holds the stored receipt against.
// Pure data: the client role (src/temporal/verify-history.ts) reads them from the history; tests may build them.
import type { InputArtifact } from '../contracts/artifact-inputs';
import type { AdapterName, Mode, Runtime } from '../contracts/schemas';

export interface AdmittedRunFacts {
  execution_id: string;
  workflow: { id: string; run_id: string };
  processor_ref: string;
  plan: string;
  /** The processor inputs exactly as submitted (the workflow's start input). */
  inputs: Record<string, unknown>;
  /** What Admit decided (its completed result in the history). */
  admitted: {
    write_prefix: string;
    image: string;
    image_digest: string;
    platform: string;
    adapter: AdapterName;
    mode: Mode;
    runtime: Runtime;
    inputs_hash: { hash_schema: string; value: string };
    env_fingerprint: string;
    cache_key: string;
    reserve_micro: number;
    secret_names: string[];
    config?: Record<string, unknown>;
    /** The world artifacts the inputs named, by the digest Admit resolved (absent when there were none). */
    input_artifacts?: InputArtifact[];
  };
  /** True when the run settled from the cache (the history scheduled settleCached, not execute). */
  cache_hit: boolean;
}
