// Everything `worldloop run` checks before it touches Temporal or creates anything (no plan, no workflow):
// the CI guard, the adapter, the inputs (read with a bound, parsed strictly, within the shared limits)
// and the request schema. Pure apart from reading the `--inputs @file`.
import { open } from 'node:fs/promises';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { BIG_DATA_HINT, MAX_INPUTS_TEXT_BYTES } from '../contracts/inputs-limits';
import { assertModeSafe, resolveMode } from '../contracts/mode';
import { RunRequestSchema, type AdapterName, type RunRequest } from '../contracts/schemas';
import { defaultWritePrefix, expandWritePrefix } from '../contracts/write-prefix';
import { inputsHash } from '../hashing/inputs-hash';
import { parseJsonBytes } from '../hashing/json-text';
import { canonicalPath } from '../world/path';
import { firstIssue } from '../contracts/zod-issue';
import { resolveModalCredentials } from '../adapters/modal/credentials';

export const DEFAULT_PLAN = 'default';
export const DEFAULT_PLAN_BUDGET_USD = 10;

/**
 * The adapters a worker of this build can run. The CLI refuses any other at once (ERR_USAGE), instead of
 * starting a run that Admit would refuse after its retries. A new adapter is added here when the worker
 * bootstrap (src/temporal/worker.ts) builds it.
 */
export const WORKER_ADAPTERS: readonly AdapterName[] = ['local', 'modal'];

export interface RunOptions {
  inputs: string;
  mode?: string;
  plan?: string;
  writePrefix?: string;
  adapter: string;
  cache: boolean;
  detach?: boolean;
  json?: boolean;
}

const tooBig = (what: string) =>
  new WorldloopError('ERR_INPUTS', `${what} is larger than ${MAX_INPUTS_TEXT_BYTES} bytes; ${BIG_DATA_HINT}`);

/** Reads at most MAX_INPUTS_TEXT_BYTES + 1 bytes, so endless input (a pipe, /dev/zero) cannot hang the CLI. */
async function readBounded(path: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new WorldloopError('ERR_INPUTS', `cannot read --inputs file ${JSON.stringify(path)}: ${errnoOf(err)}`);
  }
  try {
    if ((await handle.stat()).isDirectory())
      throw new WorldloopError('ERR_INPUTS', `--inputs file ${JSON.stringify(path)} is a directory`);
    const buffer = Buffer.alloc(MAX_INPUTS_TEXT_BYTES + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > MAX_INPUTS_TEXT_BYTES) throw tooBig(`--inputs file ${JSON.stringify(path)}`);
    return buffer.subarray(0, filled);
  } catch (err) {
    if (err instanceof WorldloopError) throw err;
    throw new WorldloopError('ERR_INPUTS', `cannot read --inputs file ${JSON.stringify(path)}: ${errnoOf(err)}`);
  } finally {
    await handle.close();
  }
}

const errnoOf = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** `--inputs <json>` or `--inputs @<file>`: strict JSON (no duplicate names), within the inputs limits, hashable. */
export async function readInputs(spec: string): Promise<unknown> {
  const bytes = spec.startsWith('@') ? await readBounded(spec.slice(1)) : Buffer.from(spec, 'utf8');
  if (bytes.length > MAX_INPUTS_TEXT_BYTES) throw tooBig('--inputs');
  let inputs: unknown;
  try {
    inputs = parseJsonBytes(bytes);
  } catch (err) {
    // The parser refuses excessive nesting itself (same MAX_INPUTS_DEPTH); say what to do instead.
    if (err instanceof WorldloopError && err.detail.includes('nesting deeper'))
      throw new WorldloopError(err.code, `${err.detail}; ${BIG_DATA_HINT}`);
    throw err;
  }
  // The inputs hash applies the shared limits (depth, size, no `__proto__`) and refuses what is not
  // I-JSON — the very checks Admit's hash makes, here before anything is created.
  inputsHash(inputs);
  return inputs;
}

/** Builds and validates the request entirely on the client, so bad input never starts a workflow. */
export async function buildRunRequest(ref: string, opts: RunOptions, cfg: Config): Promise<RunRequest> {
  // The CI guard comes first: nothing starts, nothing connects (docs/architecture.md §3).
  const mode = resolveMode(opts.mode ?? cfg.modeSetting);
  assertModeSafe(mode, cfg.ci);
  if (!(WORKER_ADAPTERS as readonly string[]).includes(opts.adapter))
    throw new WorldloopError(
      'ERR_USAGE',
      `--adapter ${JSON.stringify(opts.adapter.slice(0, 64))} is not available; this build's workers run: ${WORKER_ADAPTERS.join(', ')}`,
    );
  // No Modal credentials at all: ERR_ADAPTER_AUTH now, offline, instead of a run Admit refuses after retries.
  if (opts.adapter === 'modal') resolveModalCredentials(cfg.modal);
  const candidate = {
    processor_ref: ref,
    inputs: await readInputs(opts.inputs),
    mode,
    plan: opts.plan ?? DEFAULT_PLAN,
    write_prefix: opts.writePrefix ?? (/^[a-z0-9-]+\/[a-z0-9-]+@\d+$/.test(ref) ? defaultWritePrefix(ref) : ''),
    adapter: opts.adapter,
    ...(opts.cache ? {} : { cache: false }),
  };
  const parsed = RunRequestSchema.safeParse(candidate);
  if (!parsed.success) {
    const { where: field = 'request', message } = firstIssue(parsed.error, 'request');
    const code =
      field === 'processor_ref' ? 'ERR_UNKNOWN_PROCESSOR' : field === 'mode' ? 'ERR_MODE_INVALID' : 'ERR_INPUTS';
    throw new WorldloopError(code, `${field}: ${message}`);
  }
  // Validate the prefix grammar now with a stand-in id; Admit checks it again with the real one.
  canonicalPath(expandWritePrefix(parsed.data.write_prefix, '00000000-0000-7000-8000-000000000000'), 'prefix');
  return parsed.data;
}
