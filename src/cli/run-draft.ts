// The part of `worldloop run`'s checks that needs neither zod's request schema nor the hashing libraries: the CI
// guard, the adapter, Modal credentials and reading `--inputs` with a bound. What it yields, a draft, is completed
// into a validated RunRequest by src/cli/run-request.ts — by the resident worker when the run goes through its
// socket (which loads those modules once, not on every CLI start), else by this process before it creates or
// connects to anything. Both run the same function, so a refusal is the same code and message either way.
import { open } from 'node:fs/promises';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { BIG_DATA_HINT, MAX_INPUTS_TEXT_BYTES } from '../contracts/inputs-limits';
import { assertModeSafe, resolveMode } from '../contracts/mode';
import type { AdapterName, Mode } from '../contracts/schemas';

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

/** A run request as the command line gave it, checked as far as the light modules go (completeRunRequest). */
export interface RunDraft {
  readonly processor_ref: string;
  /** The `--inputs` bytes as read, base64 (a file's bytes need not be UTF-8): parsed when completed. */
  readonly inputs_base64: string;
  readonly mode: Mode;
  readonly plan: string;
  /** Absent: the default prefix for the processor, filled in when completed. */
  readonly write_prefix?: string;
  readonly adapter: string;
  readonly cache: boolean;
}

export const tooBigInputs = (what: string) =>
  new WorldloopError('ERR_INPUTS', `${what} is larger than ${MAX_INPUTS_TEXT_BYTES} bytes; ${BIG_DATA_HINT}`);

const errnoOf = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

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
    if (filled > MAX_INPUTS_TEXT_BYTES) throw tooBigInputs(`--inputs file ${JSON.stringify(path)}`);
    return buffer.subarray(0, filled);
  } catch (err) {
    if (err instanceof WorldloopError) throw err;
    throw new WorldloopError('ERR_INPUTS', `cannot read --inputs file ${JSON.stringify(path)}: ${errnoOf(err)}`);
  } finally {
    await handle.close();
  }
}

/** `--inputs <json>` or `--inputs @<file>`: the bytes, within MAX_INPUTS_TEXT_BYTES. */
export async function readInputsBytes(spec: string): Promise<Uint8Array> {
  const bytes = spec.startsWith('@') ? await readBounded(spec.slice(1)) : Buffer.from(spec, 'utf8');
  if (bytes.length > MAX_INPUTS_TEXT_BYTES) throw tooBigInputs('--inputs');
  return bytes;
}

/** The command line's checks that come first, in this order: nothing starts, nothing connects before them. */
export async function draftRunRequest(ref: string, opts: RunOptions, cfg: Config): Promise<RunDraft> {
  // The CI guard comes first (docs/architecture.md §3).
  const mode = resolveMode(opts.mode ?? cfg.modeSetting);
  assertModeSafe(mode, cfg.ci);
  if (!(WORKER_ADAPTERS as readonly string[]).includes(opts.adapter))
    throw new WorldloopError(
      'ERR_USAGE',
      `--adapter ${JSON.stringify(opts.adapter.slice(0, 64))} is not available; this build's workers run: ${WORKER_ADAPTERS.join(', ')}`,
    );
  // No Modal credentials at all: ERR_ADAPTER_AUTH now, offline, instead of a run Admit refuses after retries.
  if (opts.adapter === 'modal') (await import('../adapters/modal/credentials')).resolveModalCredentials(cfg.modal);
  const bytes = await readInputsBytes(opts.inputs);
  return {
    processor_ref: ref,
    inputs_base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    mode,
    plan: opts.plan ?? DEFAULT_PLAN,
    ...(opts.writePrefix !== undefined ? { write_prefix: opts.writePrefix } : {}),
    adapter: opts.adapter,
    cache: opts.cache,
  };
}
