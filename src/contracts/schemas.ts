// The wire contracts of docs/architecture.md §2, §6 and §7 as zod schemas. Types are inferred from them, never
// written by hand, so a field cannot exist in one place and not the other. Objects are strict: an unknown
// key at a boundary is a mistake to report, not to ignore.
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './errors';
import { ProcessorConfigSchema } from './processor-config';
import { PROCESSOR_REF_PATTERN } from './processor-ref';

export { PROCESSOR_REF_PATTERN, parseProcessorRef } from './processor-ref';

export const MODES = ['mock', 'real'] as const;
export const ModeSchema = z.enum(MODES);
export type Mode = z.infer<typeof ModeSchema>;

export const ADAPTERS = ['local', 'modal'] as const;
export const AdapterSchema = z.enum(ADAPTERS);
export type AdapterName = z.infer<typeof AdapterSchema>;

export const PLATFORMS = ['amd64', 'arm64'] as const;
export const PlatformSchema = z.enum(PLATFORMS);
export type Platform = z.infer<typeof PlatformSchema>;

export const ProcessorRefSchema = z.string().regex(PROCESSOR_REF_PATTERN, 'expected ns/name@major, e.g. text/stats@1');

export const PlanKeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected 1–64 characters of a-z, 0-9, ".", "_" or "-"');

/** A time-ordered UUID (v7), created once by whoever proposes the run. */
export const ExecutionIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'expected a UUIDv7');

export const Blake3HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex characters');
export const Sha256HexSchema = Blake3HexSchema;
export const OciDigestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');
/** `<repository>@sha256:<64 hex>`: an image pinned by digest. Tags are refused (ERR_IMAGE_UNPINNED). */
export const PinnedImageSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/, 'expected <repository>@sha256:<64 hex>');

export const InputsHashSchema = z.strictObject({
  hash_schema: z.literal('jcs-blake3-v1'),
  value: Blake3HexSchema,
});
export type InputsHash = z.infer<typeof InputsHashSchema>;

/** A JSON object as submitted. Deeper I-JSON checks happen in hashing (ERR_INPUTS). */
export const InputsSchema = z.record(z.string(), z.unknown());
export type Inputs = z.infer<typeof InputsSchema>;

// Predicates (docs/architecture.md §2 Admit/Re-check). `path` is a world path, or a path relative to the run's
// write prefix such as `outputs/stats.json`.
const predicatePath = z.string().min(1);
export const PredicateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('artifact.exists'), path: predicatePath }),
  z.strictObject({
    kind: z.literal('json.schema_ok'),
    path: predicatePath,
    schema: z.record(z.string(), z.unknown()),
  }),
  z.strictObject({
    kind: z.literal('json.path_equals'),
    path: predicatePath,
    pointer: z.string().regex(/^(\/.*)?$/, 'expected an RFC 6901 JSON pointer'),
    value: z.unknown(),
  }),
  z.strictObject({
    kind: z.literal('outputs.count_between'),
    min: z.number().int().nonnegative(),
    max: z.number().int().nonnegative(),
  }),
  z.strictObject({ kind: z.literal('file.size_lte'), path: predicatePath, bytes: z.number().int().nonnegative() }),
]);
export type Predicate = z.infer<typeof PredicateSchema>;
export type PredicateKind = Predicate['kind'];

export const PredicateSetSchema = z.strictObject({
  admission: z.array(PredicateSchema).default([]),
  success: z.array(PredicateSchema).default([]),
});

/** What the CLI (or any client) submits. */
export const RunRequestSchema = z.strictObject({
  processor_ref: ProcessorRefSchema,
  inputs: InputsSchema,
  mode: ModeSchema,
  plan: PlanKeySchema,
  write_prefix: z.string().min(1),
  adapter: AdapterSchema,
  predicates: PredicateSetSchema.optional(),
  /** false forces a run even when a cached result exists (`--no-cache`). */
  cache: z.boolean().optional(),
});
export type RunRequest = z.infer<typeof RunRequestSchema>;

/** The workflow input: the request plus the id its proposer created once. */
export const RunWorkflowInputSchema = z.strictObject({
  execution_id: ExecutionIdSchema,
  request: RunRequestSchema,
});
export type RunWorkflowInput = z.infer<typeof RunWorkflowInputSchema>;

export const ErrorCodeSchema = z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]);

export const EnvelopeMetaSchema = z.looseObject({
  env_fingerprint: z.string(),
  image_digest: z.string(),
  adapter: AdapterSchema,
  mode: ModeSchema,
  duration_ms: z.number().int().nonnegative(),
  cache_hit: z.boolean(),
  cost_micro: z.number().int().nonnegative(),
});
export type EnvelopeMeta = z.infer<typeof EnvelopeMetaSchema>;

export const SuccessEnvelopeSchema = z.strictObject({
  status: z.literal('success'),
  execution_id: z.string(),
  outputs: z.array(z.string()),
  index_path: z.string(),
  meta: EnvelopeMetaSchema,
});
export const ErrorEnvelopeSchema = z.strictObject({
  status: z.literal('error'),
  execution_id: z.string(),
  error: z.strictObject({ code: ErrorCodeSchema, message: z.string() }),
  meta: EnvelopeMetaSchema,
});
export const EnvelopeSchema = z.discriminatedUnion('status', [SuccessEnvelopeSchema, ErrorEnvelopeSchema]);
export type SuccessEnvelope = z.infer<typeof SuccessEnvelopeSchema>;
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;
export type Envelope = z.infer<typeof EnvelopeSchema>;

export const OutputEntrySchema = z.strictObject({
  path: z.string(),
  size_bytes: z.number().int().nonnegative(),
  blake3: Blake3HexSchema,
  sha256: Sha256HexSchema,
  mime: z.string(),
});
/** `outputs.json`: every output, sorted by canonical world path. */
export const OutputsIndexSchema = z.strictObject({ outputs: z.array(OutputEntrySchema) });
export type OutputEntry = z.infer<typeof OutputEntrySchema>;
export type OutputsIndex = z.infer<typeof OutputsIndexSchema>;

export const UsageSchema = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));

/** What the processor kit writes inside the container; Settle folds it into the receipt. */
export const ProcessorReceiptSchema = z.strictObject({
  receipt_schema: z.literal('worldloop.processor-receipt/v1'),
  execution_id: z.string(),
  processor_ref: ProcessorRefSchema,
  mode: ModeSchema,
  inputs_hash: InputsHashSchema,
  processor_info: z.record(z.string(), z.unknown()),
  usage: UsageSchema,
  cost_micro: z.number().int().nonnegative(),
});
export type ProcessorReceipt = z.infer<typeof ProcessorReceiptSchema>;

export const RECEIPT_SCHEMA = 'worldloop.receipt/v1';
export const ReceiptSchema = z.strictObject({
  receipt_schema: z.literal(RECEIPT_SCHEMA),
  execution_id: z.string(),
  processor_ref: ProcessorRefSchema,
  image_digest: z.string(),
  platform: z.string(),
  adapter: AdapterSchema,
  /** The Modal app that ran it (ADR 0013, modal runs only); absent for local runs, so their bytes stay as they were. */
  modal_app: z.string().optional(),
  mode: ModeSchema,
  env_fingerprint: z.string(),
  inputs_hash: InputsHashSchema,
  /**
   * The world artifacts the inputs named ({"$world": …}), as Admit resolved them; their digests are in the
   * inputs hash. Absent when the inputs name none (src/contracts/artifact-inputs.ts).
   */
  input_artifacts: z
    .array(
      z.strictObject({
        pointer: z.string(),
        path: z.string(),
        blake3: Blake3HexSchema,
        sha256: Sha256HexSchema,
        size_bytes: z.number().int().nonnegative(),
      }),
    )
    .optional(),
  outputs_index: z.strictObject({ path: z.string(), blake3: Blake3HexSchema }),
  outputs: z.array(
    z.strictObject({ path: z.string(), blake3: Blake3HexSchema, sha256: Sha256HexSchema, size_bytes: z.number() }),
  ),
  processor_info: z.record(z.string(), z.unknown()),
  usage: UsageSchema,
  cost_micro: z.number().int().nonnegative(),
  exit_code: z.number().int().nullable(),
  started_at: z.string(),
  finished_at: z.string(),
  duration_ms: z.number().int().nonnegative(),
  workflow: z.strictObject({ id: z.string(), run_id: z.string() }),
  worldloop_version: z.string(),
  /** Cache provenance (ADR 0002): a hit names the execution whose outputs it re-used. */
  cache: z.strictObject({
    key: Blake3HexSchema,
    hit: z.boolean(),
    source_execution_id: z.string().nullable(),
  }),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

// Registry entry (docs/architecture.md §7): registry/<ns>/<name>.yaml
export const DEFAULT_OUTPUT_LIMITS = {
  max_total_bytes: 256 * 2 ** 20,
  max_files: 1_000,
  max_file_bytes: 128 * 2 ** 20,
};
export const RuntimeSchema = z.strictObject({
  cpu: z.number().positive().max(64),
  memory_mb: z.number().int().min(16).max(262_144),
  timeout_s: z.number().int().min(1).max(86_400),
  gpu: z
    .string()
    .regex(/^(none|[a-z0-9-]+(:[1-8])?)$/)
    .default('none'),
  network: z.enum(['none', 'egress']),
  pids: z.number().int().min(8).max(32_768).default(128),
  /**
   * What a run may leave under outputs/ (ERR_OUTPUT_TOO_LARGE): enforced while the container runs and again
   * before anything is staged. Sizes are apparent sizes, so a sparse file counts at its full length.
   */
  outputs: z
    .strictObject({
      max_total_bytes: z
        .number()
        .int()
        .min(1)
        .max(2 ** 40)
        .default(DEFAULT_OUTPUT_LIMITS.max_total_bytes),
      max_files: z.number().int().min(1).max(100_000).default(DEFAULT_OUTPUT_LIMITS.max_files),
      max_file_bytes: z
        .number()
        .int()
        .min(1)
        .max(2 ** 40)
        .default(DEFAULT_OUTPUT_LIMITS.max_file_bytes),
    })
    .default(DEFAULT_OUTPUT_LIMITS),
});
export type Runtime = z.infer<typeof RuntimeSchema>;

const SecretNameSchema = z.string().regex(/^[A-Z][A-Z0-9_]{0,127}$/, 'expected an upper-case environment-style name');
export { SecretNameSchema };

export const RegistryEntrySchema = z.strictObject({
  ref: ProcessorRefSchema,
  description: z.string().min(1),
  image: z.strictObject({
    /** Repo-scoped name: <registry>/<owner>/<repo>/<image>, without tag or digest. */
    repository: z.string().regex(/^[a-z0-9][a-z0-9.-]*(:[0-9]+)?(\/[a-z0-9][a-z0-9._-]*){3,}$/, {
      message: 'expected <registry>/<owner>/<repo>/<image>',
    }),
    platforms: z.strictObject({ amd64: z.string().optional(), arm64: z.string().optional() }).default({}),
    index: z.string().optional(),
  }),
  build: z.strictObject({ context: z.string(), dockerfile: z.string(), entry: z.string() }),
  runtime: RuntimeSchema,
  secrets: z
    .strictObject({ required: z.array(SecretNameSchema).default([]), optional: z.array(SecretNameSchema).default([]) })
    .default({ required: [], optional: [] }),
  /** Non-secret settings the processor reads, and where the worker takes them from (ADR 0009). */
  config: ProcessorConfigSchema.default({}),
  inputs: z.record(z.string(), z.unknown()),
  outputs: z.array(z.string().min(1)).min(1),
  predicates: PredicateSetSchema.default({ admission: [], success: [] }),
  cost: z.strictObject({
    /** Upper bound reserved from the plan before Execute; the actual charge may be lower, never higher. */
    reserve_micro: z.number().int().nonnegative(),
  }),
  deterministic: z.boolean(),
});
export type RegistryEntry = z.infer<typeof RegistryEntrySchema>;

export { MICRO_PER_USD } from './money';
