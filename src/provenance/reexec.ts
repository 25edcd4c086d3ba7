// `worldloop verify --reexec`: run the admitted image digest again with the same inputs in a fresh container
// and compare every output with the stored one, byte for byte, per file. It goes through the adapter directly —
// no workflow, no Reserve (so no plan budget is spent) and no staging or Settle (so nothing is written to the
// world, least of all into the run's prefix); the scratch workdir is removed afterwards.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Adapter } from '../adapters/adapter';
import { WorldloopError, isErrorCode } from '../contracts/errors';
import { assertModeSafe } from '../contracts/mode';
import type { Mode, Receipt } from '../contracts/schemas';
import { blake3Hex } from '../hashing';
import { joinWorldPath, type WorldStore } from '../world';
import type { AdmittedRunFacts } from './run-facts';

export type FileVerdict = 'identical' | 'differs' | 'missing' | 'extra';

export interface FileComparison {
  path: string;
  verdict: FileVerdict;
  recorded_blake3?: string;
  reexecuted_blake3?: string;
}

export interface ReexecReport {
  reexec_execution_id: string;
  mode: Mode;
  ok: boolean;
  files: FileComparison[];
}

export interface ReexecDeps {
  adapter: Adapter;
  world: WorldStore;
  /** A scratch folder for the fresh container's workdir (removed afterwards). */
  workdirRoot: string;
  ci: boolean;
  /** Resolves a secret by name; used only when the caller allowed a real re-execution. */
  resolveSecret?: (name: string) => string;
  /**
   * Prepares the fresh workdir as Execute does before invoking (e.g. the run's world artifact inputs, by
   * digest) and returns the inputs the container gets; absent, the inputs as submitted.
   */
  prepare?: (workdir: string) => Promise<Record<string, unknown>>;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** Per file: the recorded outputs against what the fresh container wrote (pure comparison of byte maps). */
export function compareOutputs(
  recorded: ReadonlyMap<string, Uint8Array>,
  reexecuted: ReadonlyMap<string, Uint8Array>,
): FileComparison[] {
  const paths = [...new Set([...recorded.keys(), ...reexecuted.keys()])].sort();
  return paths.map((path) => {
    const a = recorded.get(path);
    const b = reexecuted.get(path);
    const digests = {
      ...(a ? { recorded_blake3: blake3Hex(a) } : {}),
      ...(b ? { reexecuted_blake3: blake3Hex(b) } : {}),
    };
    if (!b) return { path, verdict: 'missing', ...digests };
    if (!a) return { path, verdict: 'extra', ...digests };
    return { path, verdict: Buffer.from(a).equals(Buffer.from(b)) ? 'identical' : 'differs', ...digests };
  });
}

export async function reexecute(
  deps: ReexecDeps,
  facts: AdmittedRunFacts,
  receipt: Receipt,
  opts: { allowReal: boolean; executionId: string },
): Promise<ReexecReport> {
  const { admitted } = facts;
  if (admitted.mode === 'real' && !opts.allowReal) {
    throw new WorldloopError(
      'ERR_USAGE',
      `run ${facts.execution_id} ran in real mode; re-executing it calls the provider again — pass --allow-real to do so`,
    );
  }
  const mode = admitted.mode;
  assertModeSafe(mode, deps.ci);
  const secrets: Record<string, string> = {};
  if (mode === 'real') {
    if (!deps.resolveSecret)
      throw new WorldloopError('ERR_MISSING_SECRET', 'no secret resolver for a real re-execution');
    for (const name of admitted.secret_names) secrets[name] = deps.resolveSecret(name);
  }
  const workdir = join(deps.workdirRoot, opts.executionId);
  await mkdir(workdir, { recursive: true });
  try {
    const inputs = deps.prepare ? await deps.prepare(workdir) : facts.inputs;
    const outcome = await deps.adapter.invoke({
      execution_id: opts.executionId,
      processor_ref: facts.processor_ref,
      image: admitted.image,
      platform: admitted.platform.replace(/^linux\//, '') as 'amd64' | 'arm64',
      mode,
      inputs,
      // The same prefix the processor saw, so a processor that writes its own paths writes the same bytes;
      // nothing is bound there — the outputs stay in the scratch folder.
      write_prefix: admitted.write_prefix,
      runtime: admitted.runtime,
      secrets,
      env_fingerprint: admitted.env_fingerprint,
      workdir,
      ...(admitted.config ? { config: admitted.config } : {}),
    });
    if (outcome.envelope.status === 'error') {
      const { code, message } = outcome.envelope.error;
      throw new WorldloopError(isErrorCode(code) ? code : 'ERR_PROCESSOR_FAILED', `re-execution: ${message}`);
    }
    const reexecuted = new Map<string, Uint8Array>();
    for (const file of await filesUnder(join(outcome.out_dir, 'outputs'))) {
      const rel = relative(outcome.out_dir, file).split('\\').join('/');
      reexecuted.set(joinWorldPath(admitted.write_prefix, rel), new Uint8Array(await readFile(file)));
    }
    const recorded = new Map<string, Uint8Array>();
    for (const o of receipt.outputs) recorded.set(o.path, await deps.world.readBytes(o.path));
    const files = compareOutputs(recorded, reexecuted);
    return { reexec_execution_id: opts.executionId, mode, ok: files.every((f) => f.verdict === 'identical'), files };
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}
