// Admit: decide whether a run may happen at all, with no side effects (docs/architecture.md §2). Everything a later
// phase relies on — the pinned image, the hashes, the cache key, the expanded write prefix — is computed
// here once and carried in the history, so retries and replays see the same facts.
import { WorldloopError, type Predicate, type RegistryEntry } from '../src/contracts';
import { assertModeSafe } from '../src/contracts/mode';
import { blake3Hex, cacheKey, canonicalizeToBytes, envFingerprint, inputsHash } from '../src/hashing';
import { resolveProcessorConfig } from '../src/processor-config';
import { compileInputsSchema, type InputsValidator } from '../src/processor-kit';
import { pinnedImage } from '../src/registry';
import { canonicalPath } from '../src/world';
import { linearRegExp } from '../src/contracts/linear-regexp';
import { SchemaCache } from '../src/world/json-schema';
import { describeFailures, evaluatePredicates } from '../src/world/predicates';
import type { ActivityDeps } from './deps';
import { lookupCache } from './cache';
import { resolveArtifactInputs } from './artifact-inputs';
import { bindArtifacts } from '../src/contracts/artifact-inputs';
import type { AdmitInput, AdmitResult } from './types';

/** Bumping the salt invalidates every cached result at once (e.g. after a settle bug). */
export const CACHE_SALT = 'worldloop-cache-v1';

// The same validator the processor kit runs inside the container, so Admit and the container refuse
// exactly the same inputs — but with linear-time regexes (a registry pattern runs on this worker's event
// loop), compiled once per distinct schema (keyed by its hash, so a new processor version gets its own).
const validators = new SchemaCache<InputsValidator>();

function inputsValidator(entry: RegistryEntry): InputsValidator {
  return validators.getOrCreate(entry.inputs, () =>
    compileInputsSchema(entry.inputs, `${entry.ref} inputs`, { regExp: linearRegExp }),
  );
}

export function digestOf(image: string): string {
  return image.slice(image.lastIndexOf('@') + 1);
}

export function makeAdmit(deps: ActivityDeps) {
  return async function admit({ request, write_prefix }: AdmitInput): Promise<AdmitResult> {
    // The CI guard again, on the worker: a client that skipped it still cannot start a real run in CI.
    assertModeSafe(request.mode, deps.ci);

    const entry = deps.getEntry(request.processor_ref);
    const adapter = deps.adapters[request.adapter];
    if (!adapter)
      throw new WorldloopError(
        'ERR_ADAPTER_UNAVAILABLE',
        `adapter "${request.adapter}" is not configured on this worker`,
      );
    const image = pinnedImage(entry, deps.platform);

    inputsValidator(entry)(request.inputs);
    // Artifact inputs enter the hash by digest, not only by path: the same path with other bytes (or a
    // path bound after this run) is another input, with another cache key.
    const input_artifacts = await resolveArtifactInputs(deps.world, request.inputs);
    const inputs_hash = inputsHash(
      input_artifacts.length > 0 ? bindArtifacts(request.inputs, input_artifacts) : request.inputs,
    );

    const prefix = canonicalPath(write_prefix, 'prefix');
    if (!prefix.startsWith('world://artifacts/')) {
      throw new WorldloopError('ERR_BAD_FACET', `the write prefix must be under world://artifacts/, got ${prefix}`);
    }

    // Real mode needs every required secret — checked by name only; no value is read here.
    if (request.mode === 'real') deps.secretsFor('real').requireAll(entry.secrets.required);
    await deps.plans.getPlan(request.plan);

    const admission: Predicate[] = [...entry.predicates.admission, ...(request.predicates?.admission ?? [])];
    const failures = await evaluatePredicates(deps.world, admission, { write_prefix: prefix, outputs: [] });
    if (failures.length > 0)
      throw new WorldloopError('ERR_PREDICATE_FAILED', `admission: ${describeFailures(failures)}`);

    const runtime = entry.runtime;
    // Mock mode never has a network, whatever the registry says (docs/architecture.md §7).
    const network = request.mode === 'mock' ? 'none' : runtime.network;
    const secret_names = request.mode === 'real' ? [...entry.secrets.required].sort() : [];
    // Declared settings only, from this worker's environment (ADR 0009). Set ones change behaviour, so their
    // digest joins the fingerprint and the cache key; with none set both stay as they were.
    const config = resolveProcessorConfig(entry.ref, entry.config, deps.processorConfigEnv);
    const configured = Object.keys(config).length > 0;
    const env_fingerprint = envFingerprint({
      adapter: request.adapter,
      cpu: String(runtime.cpu),
      gpu: runtime.gpu,
      image,
      memory_mb: String(runtime.memory_mb),
      network,
      platform: `linux/${deps.platform}`,
      secrets: secret_names,
      timeout_s: String(runtime.timeout_s),
      ...(configured ? { config: `blake3:${blake3Hex(canonicalizeToBytes(config))}` } : {}),
    });
    const image_digest = digestOf(image);
    const key = cacheKey({
      processor_ref: entry.ref,
      image_digest,
      platform: `linux/${deps.platform}`,
      inputs_hash,
      mode: request.mode,
      env_fingerprint,
      salt: CACHE_SALT,
    });
    const use_cache = entry.deterministic && request.cache !== false;
    const cache_hit = use_cache ? await lookupCache(deps.world, key) : undefined;

    return {
      write_prefix: prefix,
      image,
      image_digest,
      platform: `linux/${deps.platform}`,
      adapter: request.adapter,
      mode: request.mode,
      runtime: { ...runtime, network },
      inputs_hash,
      env_fingerprint,
      cache_key: key,
      deterministic: entry.deterministic,
      use_cache,
      reserve_micro: entry.cost.reserve_micro,
      secret_names,
      ...(configured ? { config } : {}),
      ...(input_artifacts.length > 0 ? { input_artifacts } : {}),
      success_predicates: [...entry.predicates.success, ...(request.predicates?.success ?? [])],
      ...(cache_hit ? { cache_hit } : {}),
    };
  };
}
