// `worldloop explain <execution_id> [--against <execution_id>] [--json]`: why a run was a cache hit or a
// miss. It prints the cache-key material Admit recorded in the history (docs/architecture.md §5), recomputes the
// key from it (so the printout is proof, not a copy), and compares it with another run of the same processor
// — by default the latest earlier one — naming the fields that differ and, for inputs, the JSON pointers.
import type { Command } from 'commander';
import type { AdmitResult } from '../../../activities/types';
import { config } from '../../config';
import { bindArtifacts } from '../../contracts/artifact-inputs';
import { WorldloopError } from '../../contracts/errors';
import { ExecutionIdSchema } from '../../contracts/schemas';
import { CacheKeyFieldsSchema, cacheKey, type CacheKeyFields } from '../../hashing/cache-key';
import { parseEnvFingerprint } from '../../hashing/env-fingerprint';
import { jsonDifferences } from '../../hashing/json-diff';
import type { AdmittedRun } from '../../temporal/run-history';
import { EXIT_OK, action, printJson } from '../output';

/** The fields of the cache key, in the order the key is documented (its schema is the one list). */
export const KEY_FIELDS = CacheKeyFieldsSchema.keyof().options;
type KeyField = (typeof KEY_FIELDS)[number];
type Material = Record<KeyField, string>;

export interface RunKey {
  readonly execution_id: string;
  readonly material: Material;
  readonly cache_key: string;
  /** True when the key recomputed from the material (with this build's salt) is the recorded one. */
  readonly key_verified: boolean;
}

export interface Difference {
  readonly field: KeyField;
  readonly this: string;
  readonly other: string;
  /** inputs_hash: where the bound inputs differ (an artifact whose bytes changed shows as `…/blake3`). */
  readonly pointers?: string[];
  /** env_fingerprint: which of its keys differ. */
  readonly fingerprint_keys?: string[];
}

export type Decision =
  | { cache: 'hit'; source_execution_id: string }
  | { cache: 'miss' }
  | { cache: 'off'; why: 'not deterministic' | 'caching turned off for the run' };

export interface Explanation {
  readonly run: RunKey;
  readonly decision: Decision;
  readonly against: RunKey | null;
  readonly differences: Difference[];
  readonly reason: string;
}

/** The key material of an admitted run; `salt` is this build's when the recomputed key matches. */
export function runKey(executionId: string, admitted: AdmitResult, processorRef: string, salt: string): RunKey {
  const fields: CacheKeyFields = {
    processor_ref: processorRef,
    image_digest: admitted.image_digest,
    platform: admitted.platform,
    inputs_hash: admitted.inputs_hash,
    mode: admitted.mode,
    env_fingerprint: admitted.env_fingerprint,
    salt,
  };
  const verified = cacheKey(fields) === admitted.cache_key;
  return {
    execution_id: executionId,
    material: {
      ...fields,
      inputs_hash: `${fields.inputs_hash.hash_schema}:${fields.inputs_hash.value}`,
      salt: verified ? salt : `(not ${JSON.stringify(salt)}: the key was made with another salt)`,
    },
    cache_key: admitted.cache_key,
    key_verified: verified,
  };
}

function fingerprintKeys(a: string, b: string): string[] {
  try {
    const [x, y] = [parseEnvFingerprint(a), parseEnvFingerprint(b)] as Record<string, unknown>[];
    const keys = [...new Set([...Object.keys(x!), ...Object.keys(y!)])].sort();
    return keys.filter((k) => JSON.stringify(x![k]) !== JSON.stringify(y![k]));
  } catch {
    return [];
  }
}

/** Pure: the decision, the differing fields and a one-line reason. */
export function explainRuns(
  run: { key: RunKey; admitted: AdmitResult; inputs: unknown; cache_source: string | undefined },
  against: { key: RunKey; inputs: unknown } | undefined,
): Explanation {
  const decision: Decision = run.cache_source
    ? { cache: 'hit', source_execution_id: run.cache_source }
    : !run.admitted.use_cache
      ? { cache: 'off', why: run.admitted.deterministic ? 'caching turned off for the run' : 'not deterministic' }
      : { cache: 'miss' };
  const differences: Difference[] = [];
  if (against) {
    for (const field of KEY_FIELDS) {
      const [mine, theirs] = [run.key.material[field], against.key.material[field]];
      if (mine === theirs) continue;
      if (field === 'inputs_hash') {
        differences.push({ field, this: mine, other: theirs, pointers: jsonDifferences(run.inputs, against.inputs) });
      } else if (field === 'env_fingerprint') {
        differences.push({ field, this: mine, other: theirs, fingerprint_keys: fingerprintKeys(mine, theirs) });
      } else differences.push({ field, this: mine, other: theirs });
    }
  }
  return {
    run: run.key,
    decision,
    against: against?.key ?? null,
    differences,
    reason: reasonFor(decision, against, differences),
  };
}

function reasonFor(decision: Decision, against: { key: RunKey } | undefined, differences: Difference[]): string {
  const other = against?.key.execution_id;
  switch (decision.cache) {
    case 'hit':
      return `cache hit: the key matched the verified outputs of run ${decision.source_execution_id}`;
    case 'off':
      return `cache not used: ${decision.why === 'not deterministic' ? 'the processor is not deterministic' : 'the run asked for no cache (--no-cache)'}`;
    case 'miss':
      if (!other) return 'cache miss: no earlier run of this processor to compare with';
      if (differences.length > 0)
        return `cache miss: the key differs from run ${other}'s in ${differences.map((d) => d.field).join(', ')}`;
      return `cache miss: the same key as run ${other}, but no verified result was cached under it when this run was admitted (that run had not settled, failed, or did not cache)`;
  }
}

const ID = (id: string, what: string): string => {
  if (!ExecutionIdSchema.safeParse(id).success)
    throw new WorldloopError(
      'ERR_NOT_FOUND',
      `no run with execution id ${JSON.stringify(id.slice(0, 64))} (${what}): not an execution id (a UUID)`,
    );
  return id;
};

function requireAdmitted(run: AdmittedRun): AdmitResult {
  if (run.admitted) return run.admitted;
  throw new WorldloopError(
    'ERR_NOT_FOUND',
    `run ${run.execution_id} has no cache key: it stopped before Admit completed (see \`worldloop show ${run.execution_id}\`)`,
  );
}

/** The inputs exactly as hashed: artifact references carry the digests Admit resolved. */
function hashedInputs(run: AdmittedRun, admitted: AdmitResult): unknown {
  const artifacts = admitted.input_artifacts ?? [];
  return artifacts.length > 0 ? bindArtifacts(run.input.request.inputs, artifacts) : run.input.request.inputs;
}

function printText(e: Explanation): void {
  const lines = [
    `execution  ${e.run.execution_id}`,
    e.reason,
    `cache key  ${e.run.cache_key}${e.run.key_verified ? '  (recomputed from the material below: matches)' : '  (NOT reproduced from the material below)'}`,
  ];
  for (const f of KEY_FIELDS) lines.push(`  ${f.padEnd(16)} ${e.run.material[f]}`);
  if (e.against) {
    lines.push(`against    ${e.against.execution_id}  cache key ${e.against.cache_key}`);
    if (e.differences.length === 0) lines.push('  no field differs');
    for (const d of e.differences) {
      lines.push(`  ${d.field} differs`, `    this   ${d.this}`, `    other  ${d.other}`);
      if (d.pointers)
        lines.push(`    inputs differ at ${d.pointers.length > 0 ? d.pointers.join(', ') : '(no place found)'}`);
      if (d.fingerprint_keys?.length) lines.push(`    fingerprint keys ${d.fingerprint_keys.join(', ')}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function explainCommand(executionId: string, opts: { against?: string; json?: boolean }): Promise<number> {
  ID(executionId, 'the run to explain');
  if (opts.against !== undefined) ID(opts.against, '--against');
  const cfg = config();
  const [{ connectTemporal }, client, { readAdmittedRun }, { CACHE_SALT }] = await Promise.all([
    import('../../temporal/connection'),
    import('../../temporal/client'),
    import('../../temporal/run-history'),
    import('../../../activities/admit'),
  ]);
  const temporal = await connectTemporal(cfg);
  try {
    const runs = client.runClient(temporal);
    const run = await readAdmittedRun(runs, executionId);
    const admitted = requireAdmitted(run);
    const ref = run.input.request.processor_ref;
    let otherId = opts.against;
    if (otherId === undefined) {
      // The latest by start time: the store lists open runs first (one left open long ago would come first).
      const earlier = await client.listRuns(runs, {
        limit: 200,
        filter: { processor_ref: ref, startedBefore: run.started },
      });
      otherId = earlier
        .filter((r) => r.execution_id !== executionId)
        .sort((x, y) => y.started.getTime() - x.started.getTime())[0]?.execution_id;
    }
    let against: { key: ReturnType<typeof runKey>; inputs: unknown } | undefined;
    if (otherId !== undefined) {
      const other = await readAdmittedRun(runs, otherId);
      if (other.input.request.processor_ref !== ref)
        throw new WorldloopError(
          'ERR_USAGE',
          `--against ${otherId} ran ${other.input.request.processor_ref}, not ${ref}: compare runs of the same processor`,
        );
      const otherAdmitted = requireAdmitted(other);
      against = { key: runKey(otherId, otherAdmitted, ref, CACHE_SALT), inputs: hashedInputs(other, otherAdmitted) };
    }
    const explanation = explainRuns(
      {
        key: runKey(executionId, admitted, ref, CACHE_SALT),
        admitted,
        inputs: hashedInputs(run, admitted),
        cache_source: run.cache_source,
      },
      against,
    );
    if (opts.json) printJson(explanation);
    else printText(explanation);
    return EXIT_OK;
  } finally {
    await temporal.connection.close();
  }
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('Explain a cache hit or miss: the cache-key material and how it differs from another run')
    .argument('<execution_id>')
    .option('--against <execution_id>', 'compare with this run (default: the latest earlier run of the processor)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ worldloop explain 019ab3c2-…\n  $ worldloop explain 019ab3c2-… --against 019ab3b0-… --json',
    )
    .action(action(explainCommand));
}
