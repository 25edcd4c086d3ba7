// `worldloop lineage <world path> [--json]`: where an artifact came from. The world index names the run
// that bound the path; that run's receipt names its processor, image and inputs hash and the world
// artifacts its inputs named (`input_artifacts`, by digest); each of those is traced the same way,
// recursively, into a tree. The run's literal inputs come from its workflow history when Temporal answers.
import type { Command } from 'commander';
import { config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { ReceiptSchema, type Receipt } from '../../contracts/schemas';
import { determinismPath } from '../../contracts/write-prefix';
import { parseJsonBytes } from '../../hashing/json-text';
import { canonicalPath } from '../../world/path';
import type { WorldEntry } from '../../world/world-store';
import { EXIT_OK, action, printJson } from '../output';

/** Deep chains are fine; this only stops a store that was edited into a loop. */
export const MAX_LINEAGE_DEPTH = 64;

export interface LineageRun {
  readonly execution_id: string;
  readonly processor_ref: string;
  readonly image_digest: string;
  readonly mode: string;
  readonly inputs_hash: string;
  /** The submitted inputs, from the workflow history; null when Temporal does not know the run any more. */
  readonly inputs: unknown;
  /** A cache hit re-used this run's outputs. */
  readonly cache_source: string | null;
}

export interface LineageNode {
  readonly path: string;
  readonly blake3: string;
  readonly sha256: string;
  readonly quarantined: boolean;
  /** null when no receipt exists for the binding run (written outside a run). */
  readonly produced_by: LineageRun | null;
  /** The artifacts the producing run read, each traced further. */
  readonly inputs: (LineageNode & { readonly pointer: string })[];
  /** Set when the trace stops here: a loop or the depth bound. */
  readonly truncated?: string;
}

/** What tracing needs from the world and from Temporal; tests pass their own. */
export interface LineageSources {
  stat(path: string): Promise<WorldEntry | undefined>;
  receipt(executionId: string): Promise<Receipt | undefined>;
  quarantined(path: string): Promise<boolean>;
  inputsOf(executionId: string): Promise<unknown>;
}

export async function traceLineage(path: string, sources: LineageSources): Promise<LineageNode> {
  const trace = async (at: string, depth: number, seen: readonly string[]): Promise<LineageNode> => {
    const entry = await sources.stat(at);
    if (!entry) throw new WorldloopError('ERR_NOT_FOUND', `nothing is bound at ${at}`);
    const base = {
      path: entry.path,
      blake3: entry.blake3,
      sha256: entry.sha256,
      quarantined: await sources.quarantined(entry.path),
    };
    if (seen.includes(entry.path)) return { ...base, produced_by: null, inputs: [], truncated: 'loop' };
    const receipt = await sources.receipt(entry.execution_id);
    if (!receipt) return { ...base, produced_by: null, inputs: [] };
    const produced_by: LineageRun = {
      execution_id: receipt.execution_id,
      processor_ref: receipt.processor_ref,
      image_digest: receipt.image_digest,
      mode: receipt.mode,
      inputs_hash: `${receipt.inputs_hash.hash_schema}:${receipt.inputs_hash.value}`,
      inputs: await sources.inputsOf(receipt.execution_id),
      cache_source: receipt.cache.source_execution_id,
    };
    const artifacts = receipt.input_artifacts ?? [];
    if (depth >= MAX_LINEAGE_DEPTH && artifacts.length > 0)
      return { ...base, produced_by, inputs: [], truncated: `deeper than ${MAX_LINEAGE_DEPTH} runs` };
    const inputs = [];
    for (const a of artifacts) {
      const node = await trace(a.path, depth + 1, [...seen, entry.path]);
      // The receipt pins the digest the run read; the path still names it (bindings never change).
      inputs.push({ pointer: a.pointer, ...node });
    }
    return { ...base, produced_by, inputs };
  };
  return trace(canonicalPath(path, 'exact'), 0, []);
}

/** The tree as text: one artifact per line, its producing run below it, inputs indented. */
export function lineageText(root: LineageNode): string {
  const lines: string[] = [];
  const walk = (node: LineageNode, indent: string, label: string): void => {
    lines.push(`${indent}${label}${node.path}  blake3:${node.blake3}${node.quarantined ? '  [quarantined]' : ''}`);
    const run = node.produced_by;
    const pad = `${indent}    `;
    if (!run) lines.push(`${pad}not produced by a run (no receipt)`);
    else {
      lines.push(
        `${pad}run     ${run.execution_id}  ${run.processor_ref} (${run.mode})${run.cache_source ? `  cache hit of ${run.cache_source}` : ''}`,
        `${pad}image   ${run.image_digest}`,
        `${pad}inputs  ${run.inputs_hash}${run.inputs === null ? '' : `  ${JSON.stringify(run.inputs)}`}`,
      );
    }
    if (node.truncated) lines.push(`${pad}(trace stops: ${node.truncated})`);
    for (const input of node.inputs) walk(input, pad, `${input.pointer} ← `);
  };
  walk(root, '', '');
  return `${lines.join('\n')}\n`;
}

export async function lineageCommand(path: string, opts: { json?: boolean }): Promise<number> {
  const start = canonicalPath(path, 'exact');
  const cfg = config();
  const { openWorld } = await import('../../world');
  const { world } = openWorld(cfg);
  const history = historyReader(cfg);
  try {
    const root = await traceLineage(start, {
      stat: (p) => world.stat(p),
      quarantined: (p) => world.isQuarantined(p),
      receipt: async (id) => {
        const at = determinismPath(id);
        if (!(await world.stat(at))) return undefined;
        return ReceiptSchema.parse(parseJsonBytes(await world.readBytes(at)));
      },
      inputsOf: history.inputsOf,
    });
    if (opts.json) printJson(root);
    else process.stdout.write(lineageText(root));
    return EXIT_OK;
  } finally {
    await history.close();
  }
}

/**
 * Inputs from the workflow history, or null for every run when Temporal cannot be reached. It connects on
 * the first question only, so a path that is not bound is refused without touching Temporal.
 */
function historyReader(cfg: ReturnType<typeof config>) {
  let opened: Promise<{ close(): Promise<void>; inputsOf(id: string): Promise<unknown> } | undefined> | undefined;
  const open = () =>
    (opened ??= (async () => {
      const [{ connectTemporal }, client, { readAdmittedRun }] = await Promise.all([
        import('../../temporal/connection'),
        import('../../temporal/client'),
        import('../../temporal/run-history'),
      ]);
      const temporal = await connectTemporal(cfg);
      const runs = client.runClient(temporal);
      return {
        close: () => temporal.connection.close(),
        inputsOf: (id: string) =>
          readAdmittedRun(runs, id).then(
            (r) => r.input.request.inputs as unknown,
            () => null,
          ),
      };
    })().catch(() => undefined));
  return {
    inputsOf: async (id: string): Promise<unknown> => {
      const history = await open();
      return history ? history.inputsOf(id) : null;
    },
    close: async () => {
      if (opened) await (await opened)?.close();
    },
  };
}

export function register(program: Command): void {
  program
    .command('lineage')
    .description('Trace a world artifact: the run that produced it, its image and inputs, recursively upstream')
    .argument(
      '<world_path>',
      'an artifact, e.g. world://artifacts/outputs/text/stats/<execution_id>/outputs/stats.json',
    )
    .option('--json', 'print the tree as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ worldloop lineage world://artifacts/outputs/text/stats/019ab3c2-…/outputs/stats.json\n  $ worldloop lineage /artifacts/outputs/text/stats/019ab3c2-…/outputs/stats.json --json',
    )
    .action(action(lineageCommand));
}
