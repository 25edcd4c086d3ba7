// The data that flows between the phases of runProcessor. Workflows import these as types only; every
// field is plain JSON so it survives Temporal's payload converter and replays byte for byte.
import type {
  AdapterName,
  Envelope,
  ErrorCode,
  InputsHash,
  Mode,
  Predicate,
  RunRequest,
  Runtime,
} from '../src/contracts';
import type { ConfigValues } from '../src/contracts/processor-config';
import type { InputArtifact } from '../src/contracts/artifact-inputs';

export const PHASES = ['admit', 'reserve', 'execute', 'settle', 'recheck'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseState {
  /** The phase running now, or the terminal state. */
  phase: Phase | 'done' | 'failed';
  completed: Phase[];
  cache_hit: boolean;
  error_code?: string;
}

export interface WorkflowRef {
  id: string;
  run_id: string;
}

export interface AdmitInput {
  execution_id: string;
  request: RunRequest;
  /** Already expanded by the workflow (docs/architecture.md §2: exactly once). */
  write_prefix: string;
}

export interface CachedOutput {
  path: string;
  blake3: string;
  sha256: string;
  size_bytes: number;
  mime: string;
}

/** What a cache entry records: the execution whose verified outputs a hit re-uses. */
export interface CacheRecord {
  execution_id: string;
  write_prefix: string;
  outputs: CachedOutput[];
  cost_micro: number;
  processor_info: Record<string, unknown>;
  usage: Record<string, number | string | boolean | null>;
}

export interface AdmitResult {
  write_prefix: string;
  image: string;
  image_digest: string;
  platform: string;
  adapter: AdapterName;
  mode: Mode;
  runtime: Runtime;
  inputs_hash: InputsHash;
  env_fingerprint: string;
  cache_key: string;
  deterministic: boolean;
  use_cache: boolean;
  reserve_micro: number;
  secret_names: string[];
  /** The processor settings this run gets in /work/config.json (ADR 0009); absent when none is set. */
  config?: ConfigValues;
  /** The world artifacts the inputs name, resolved to digests; absent when there are none. */
  input_artifacts?: InputArtifact[];
  success_predicates: Predicate[];
  /** Present on a verified cache hit. */
  cache_hit?: CacheRecord;
}

export interface ReserveInput {
  execution_id: string;
  plan: string;
  admitted: AdmitResult;
  /**
   * false: do not wait for an identical run in flight, answer `in_flight` (the local Reserve of ADR 0023, which cannot
   * heartbeat). Absent or true: wait for it, heartbeating (the ordinary activity).
   */
  wait?: boolean;
}

export type ReserveResult =
  | { status: 'reserved' }
  | { status: 'cache_hit'; record: CacheRecord }
  /** Only when `wait` is false: an identical run (`owner`) is executing; nothing was claimed or reserved. */
  | { status: 'in_flight'; owner: string };

export interface ExecuteInput {
  execution_id: string;
  request: RunRequest;
  admitted: AdmitResult;
}

/** What staging decided about the processor's out/ folder (activities/staging.ts). */
export type StagingOutcome =
  | { status: 'staged'; manifest: { blake3: string; size_bytes: number }; files: number; total_bytes: number }
  | { status: 'refused'; code: ErrorCode; message: string };

export interface ExecuteResult {
  envelope: Envelope;
  exit_code: number | null;
  started_at: string;
  finished_at: string;
  /**
   * What staging decided (activities/staging.ts). Staged: the verified outputs are blobs in the store and
   * their facts a manifest blob, named here by digest so this payload stays small whatever the processor
   * wrote. Refused: nothing was copied; Settle raises the code.
   */
  staging: StagingOutcome;
}

export interface SettleInput {
  execution_id: string;
  request: RunRequest;
  admitted: AdmitResult;
  executed: ExecuteResult;
  workflow: WorkflowRef;
}

export interface SettleCachedInput {
  execution_id: string;
  request: RunRequest;
  admitted: AdmitResult;
  record: CacheRecord;
  workflow: WorkflowRef;
  started_at: string;
}

export interface RecheckInput {
  execution_id: string;
  admitted: AdmitResult;
  request: RunRequest;
  envelope: Envelope;
}

export interface ReleaseInput {
  execution_id: string;
  plan: string;
}
