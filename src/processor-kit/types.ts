// What a processor gives the kit, and what its provider runner returns (docs/architecture.md §7).
import type { Mode } from '../contracts/schemas';

/**
 * The part of a processor's registry entry that travels inside its image. The bundler embeds it from
 * `registry/<ns>/<name>.yaml` (module id `worldloop-registry:<ref>`), so the YAML stays the one source of
 * truth for the input schema the control plane admits and the container enforces.
 */
export interface EmbeddedSpec {
  readonly ref: string;
  readonly inputs: Record<string, unknown>;
  readonly outputs: readonly string[];
  readonly secrets: { readonly required: readonly string[]; readonly optional: readonly string[] };
  readonly cost: { readonly reserve_micro: number };
  readonly deterministic: boolean;
}

export interface OutputItem {
  /** `outputs/…`: relative, no dot segments, no backslashes. */
  readonly relpath: string;
  readonly bytes: Uint8Array | string;
  readonly mime: string;
}

export type UsageValue = number | string | boolean | null;

export interface ProcessorResult {
  readonly outputs: readonly OutputItem[];
  readonly usage: Record<string, UsageValue>;
  /** Integer micro-dollars actually spent. */
  readonly cost_micro: number;
  readonly processor_info: Record<string, unknown>;
}

/** Structured lifecycle/diagnostic logging for runners. Never pass inputs, outputs or secret values. */
export type KitLog = (event: string, fields?: Record<string, unknown>) => void;

export interface RunnerConfig {
  readonly mode: Mode;
  readonly executionId: string;
  /** `{ hash_schema, value }` of the inputs exactly as submitted. */
  readonly inputsHash: { readonly hash_schema: 'jcs-blake3-v1'; readonly value: string };
  /** Secret values by name; always empty in mock mode (nothing is read). */
  readonly secrets: Readonly<Record<string, string>>;
  /** Non-secret settings from the work folder's config.json (may be empty). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly log: KitLog;
}

export type Runner<I> = (inputs: I) => Promise<ProcessorResult>;

export interface ProcessorDefinition<I = Record<string, unknown>> {
  readonly spec: EmbeddedSpec;
  /** The processor's own release, logged and recorded in processor_info. */
  readonly version: string;
  readonly makeRunner: (config: RunnerConfig) => Runner<I>;
}
