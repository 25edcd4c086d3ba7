// The adapter contract (docs/architecture.md §2 Execute, §6, §8): one keyword-only `invoke` that runs a pinned image
// for one execution and answers with a canonical envelope. Activities depend on this interface only, so
// the local Docker adapter and the Modal adapter are interchangeable and tests can pass their own.
import { z } from 'zod';
import {
  ExecutionIdSchema,
  InputsSchema,
  ModeSchema,
  PlatformSchema,
  ProcessorRefSchema,
  RuntimeSchema,
  SecretNameSchema,
  type Envelope,
  type Mode,
  type Platform,
  type Runtime,
} from '../contracts/schemas';

/**
 * Strict on purpose: an unknown key means the caller and the adapter disagree about the contract, and a
 * silently ignored field (say, a misspelt `secrets`) is exactly the bug that must not reach a container.
 * `image` is only a string here; whether it is pinned is checked separately so the refusal carries its
 * own code (ERR_IMAGE_UNPINNED).
 */
export const InvokeArgsSchema = z.strictObject({
  execution_id: ExecutionIdSchema,
  processor_ref: ProcessorRefSchema,
  image: z.string().min(1),
  platform: PlatformSchema,
  mode: ModeSchema,
  inputs: InputsSchema,
  /** Canonical and already expanded by the workflow; adapters never expand `{execution_id}` again. */
  write_prefix: z.string().startsWith('world://artifacts/'),
  runtime: RuntimeSchema,
  /** name → value. Must be empty in mock mode: mock runs never see a secret. */
  secrets: z.record(SecretNameSchema, z.string()),
  env_fingerprint: z.string(),
  /** Absolute host folder owned by this execution, stable per execution_id across retries. */
  workdir: z.string().startsWith('/'),
  /** Non-secret processor configuration, written to /work/config.json. */
  config: z.record(z.string(), z.unknown()).optional(),
});

export interface InvokeArgs {
  execution_id: string;
  processor_ref: string;
  /** `<repository>@sha256:<64 hex>`; anything else is refused with ERR_IMAGE_UNPINNED. */
  image: string;
  platform: Platform;
  mode: Mode;
  inputs: Record<string, unknown>;
  write_prefix: string;
  runtime: Runtime;
  secrets: Record<string, string>;
  env_fingerprint: string;
  workdir: string;
  config?: Record<string, unknown>;
}

export interface InvokeOutcome {
  /**
   * Success lists the outputs the processor *claims* in outputs.json (Settle verifies them); an error
   * carries ERR_TIMEOUT, ERR_CANCELLED, ERR_PROCESSOR_FAILED or ERR_OUTPUT_INVALID.
   */
  envelope: Envelope;
  /** The processor's own exit status; null when it never exited by itself (killed on timeout or cancel). */
  exit_code: number | null;
  started_at: string;
  finished_at: string;
  /** Host path of what the processor wrote: `<workdir>/out`. */
  out_dir: string;
  /** Last lines of stderr (bounded), already redacted. */
  stderr_tail: string;
  /** True when this call took over an existing container or a recorded result instead of starting one. */
  adopted: boolean;
}

export interface InvokeControl {
  /** Aborting kills and removes the container (ERR_CANCELLED) unless `detachOn` says to detach. */
  signal?: AbortSignal;
  /** Called every ~2 s while the container runs (Temporal activity heartbeat). */
  heartbeat?: (detail: unknown) => void;
  /**
   * Given `signal.reason`, true when the abort means "stop watching" rather than "cancel the run": anything
   * but a cancel the workflow asked for (a worker shutting down, a heartbeat timeout while the Temporal
   * server is unreachable). The container is then left running, no result is recorded, invoke throws
   * ERR_ADAPTER_UNAVAILABLE (retryable), and the next attempt adopts the container.
   */
  detachOn?: (reason: unknown) => boolean;
  /**
   * Keep the finished container (stopped) instead of removing it, until `Adapter.discard`: while the
   * caller has not made the outcome durable elsewhere, the container is the proof that the execution ran,
   * so no attempt on any worker starts a second one (issue 12, ADR 0020-execution-container-lock).
   */
  keepContainer?: boolean;
  /**
   * Whether the execution's outcome is already durable outside this worker (Execute's world record). Asked
   * when no container exists, right before creating one; true → invoke throws ERR_ADAPTER_UNAVAILABLE and
   * creates nothing, and the caller reads that outcome.
   */
  recordedElsewhere?: () => Promise<boolean>;
}

export interface Adapter {
  readonly name: 'local' | 'modal';
  invoke(args: InvokeArgs, ctl?: InvokeControl): Promise<InvokeOutcome>;
  /** Removes what `keepContainer` kept, once the outcome is durable; idempotent. Adapters that keep nothing omit it. */
  discard?(executionId: string): Promise<void>;
  /**
   * The executions whose kept containers have stopped (or never started): what `discard` may remove once
   * their outcome is durable. The worker's sweep asks this to remove what a crash between record and
   * discard left (ADR 0024).
   */
  stoppedContainers?(): Promise<string[]>;
}

// Compile-time proof that the schema and the hand-written interface describe the same object.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesInterface: Equals<z.output<typeof InvokeArgsSchema>, InvokeArgs> = true;
void schemaMatchesInterface;
