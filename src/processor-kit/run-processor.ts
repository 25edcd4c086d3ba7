// The container side of docs/architecture.md §7: what `node /app/main.js …` does inside every processor image.
//
//   parse arguments → resolve mode → read + hash + validate inputs → read secrets (real mode only)
//   → run the provider → write outputs/** → outputs.json → receipt.json (last: its presence means done)
//
// Exit codes: 0 success; 2 when the caller sent something wrong (catalogue kind `input`: ERR_USAGE,
// ERR_INPUTS, ERR_MODE_INVALID, ERR_MISSING_SECRET); 1 for everything else. A failure always ends with
// one `execution.fail` JSON line carrying the code, so the adapter can report it without guessing.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ERROR_CATALOGUE, WorldloopError, type ErrorCode } from '../contracts/errors';
import { resolveMode } from '../contracts/mode';
// Types only from the zod contracts: the schemas module would pull zod (more than half of the bundle)
// into every image. The unit tests parse what the kit writes with the real schemas instead.
import type { Mode, OutputEntry, OutputsIndex, ProcessorReceipt } from '../contracts/schemas';
import { blake3Hex, initBlake3 } from '../hashing/blake3';
import { inputsHash } from '../hashing/inputs-hash';
import { canonicalize } from '../hashing/jcs';
import { parseJsonBytes } from '../hashing/json-text';
import { canonicalPath, joinWorldPath } from '../world/path';
import { assertNoDuplicates } from '../world/path-duplicates';
import { parseKitArgs, type KitArgs } from './args';
import { localArtifactInputs } from './artifacts';
import { unbindArtifacts } from '../contracts/artifact-inputs';
import { compileInputsSchema } from './inputs';
import { KitLogger } from './log';
import { checkDeclared, checkOutputSet } from './outputs';
import type { OutputItem, ProcessorDefinition, ProcessorResult } from './types';

export const PROCESSOR_RECEIPT_SCHEMA = 'worldloop.processor-receipt/v1' as const;
export const DEFAULT_SECRETS_DIR = '/run/secrets';
/**
 * Where an adapter that cannot mount /run/secrets puts the secret files instead: `secrets/` beside the
 * inputs file (/work/secrets). The Modal adapter does (ADR 0018): Modal hands a named secret to a command
 * as environment variables, its prepare step writes them to 0400 files here, and the processor never has
 * them in its environment. The kit keeps one way of reading a secret — a file named after it.
 */
export const WORK_SECRETS_DIR = 'secrets';

export interface KitIo {
  readonly argv: readonly string[];
  /** Receives complete JSON lines. */
  readonly stderr: (line: string) => void;
  /** Where real-mode secrets are files named after the secret (the adapter mounts /run/secrets). */
  readonly secretsDir?: string;
  readonly now?: () => Date;
}

/** ExecutionIdSchema's pattern (a UUIDv7); tests/unit/processor-kit.test.ts keeps the two in step. */
export const EXECUTION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_BAD_INPUT = 2;

function exitCodeFor(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].kind === 'input' ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

async function readSource(arg: string, label: string): Promise<Uint8Array> {
  if (!arg.startsWith('@')) return new TextEncoder().encode(arg);
  try {
    return await readFile(arg.slice(1));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new WorldloopError('ERR_INPUTS', `${label} file ${JSON.stringify(arg.slice(1))} cannot be read (${why})`);
  }
}

/** Non-secret settings (e.g. a provider base URL): `--config @file`, else `config.json` beside the inputs. */
async function readSettings(args: KitArgs): Promise<Record<string, unknown>> {
  let file: string | undefined;
  if (args.config !== undefined) file = args.config.replace(/^@/, '');
  else if (args.inputs.startsWith('@')) file = join(dirname(args.inputs.slice(1)), 'config.json');
  if (file === undefined) return {};
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && args.config === undefined) return {};
    throw new WorldloopError('ERR_CONFIG_INVALID', `config file ${JSON.stringify(file)} cannot be read`);
  }
  let parsed: unknown;
  try {
    parsed = parseJsonBytes(bytes);
  } catch (err) {
    throw new WorldloopError('ERR_CONFIG_INVALID', `config file ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new WorldloopError('ERR_CONFIG_INVALID', `config file ${JSON.stringify(file)} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Artifact bytes sit in `artifacts/` beside the inputs file (the adapter's read-only /work). */
function artifactsDirOf(args: KitArgs): string | undefined {
  return args.inputs.startsWith('@') ? join(dirname(args.inputs.slice(1)), 'artifacts') : undefined;
}

/** The secret folders, in order: the mounted one (/run/secrets), then `secrets/` beside an inputs file. */
function secretDirsOf(args: KitArgs, mounted: string): string[] {
  return args.inputs.startsWith('@') ? [mounted, join(dirname(args.inputs.slice(1)), WORK_SECRETS_DIR)] : [mounted];
}

/** The first file named `name` in `dirs`; undefined when none holds one. */
async function readSecretFile(dirs: readonly string[], name: string): Promise<string | undefined> {
  for (const dir of dirs) {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch {
      // Not in this folder; the next one may hold it.
    }
  }
  return undefined;
}

/** Mock mode reads nothing: a secret that is never read can never leak. */
async function readSecrets(
  def: ProcessorDefinition<never>,
  mode: Mode,
  dirs: readonly string[],
  log: KitLogger,
): Promise<Record<string, string>> {
  if (mode === 'mock') return {};
  const out: Record<string, string> = {};
  const read = async (name: string, required: boolean): Promise<void> => {
    let value = await readSecretFile(dirs, name);
    if (value === undefined) {
      if (required)
        throw new WorldloopError('ERR_MISSING_SECRET', `secret ${name} is not a file in ${dirs.join(' or ')}`);
      return;
    }
    // Files written by editors and `echo` end in a newline that is not part of the secret.
    value = value.replace(/\r?\n$/, '');
    if (value === '') {
      if (required) throw new WorldloopError('ERR_MISSING_SECRET', `secret ${name} is empty`);
      return;
    }
    log.addSecret(value);
    out[name] = value;
  };
  for (const name of def.spec.secrets.required) await read(name, true);
  for (const name of def.spec.secrets.optional) await read(name, false);
  return out;
}

function checkResult(result: ProcessorResult): void {
  if (typeof result !== 'object' || result === null || !Array.isArray(result.outputs)) {
    throw new WorldloopError('ERR_PROCESSOR_FAILED', 'the runner returned no outputs array');
  }
  if (!Number.isSafeInteger(result.cost_micro) || result.cost_micro < 0) {
    throw new WorldloopError(
      'ERR_PROCESSOR_FAILED',
      'the runner returned a cost_micro that is not a non-negative integer',
    );
  }
  const usage: unknown = result.usage;
  const flat =
    typeof usage === 'object' &&
    usage !== null &&
    !Array.isArray(usage) &&
    Object.values(usage).every(
      (v) =>
        v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)),
    );
  if (!flat) {
    throw new WorldloopError('ERR_PROCESSOR_FAILED', 'the runner returned usage that is not a flat record of scalars');
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function writeOutputs(items: readonly OutputItem[], out: string, writePrefix: string): Promise<OutputEntry[]> {
  const entries: OutputEntry[] = [];
  for (const item of items) {
    const bytes = typeof item.bytes === 'string' ? new TextEncoder().encode(item.bytes) : item.bytes;
    const file = join(out, ...item.relpath.split('/'));
    await mkdir(dirname(file), { recursive: true });
    // `wx`: never overwrite — a file already there means two writers, which is a bug to surface.
    await writeFile(file, bytes, { flag: 'wx', mode: 0o644 });
    entries.push({
      path: joinWorldPath(writePrefix, item.relpath),
      size_bytes: bytes.byteLength,
      blake3: blake3Hex(bytes),
      sha256: sha256Hex(bytes),
      mime: item.mime,
    });
  }
  assertNoDuplicates(entries.map((e) => e.path));
  // UTF-16 code-unit order, the same order JCS uses for keys.
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return entries;
}

/** Runs one execution and returns the process exit code. Never throws. */
export async function runProcessor<I>(def: ProcessorDefinition<I>, io: KitIo): Promise<number> {
  const now = io.now ?? (() => new Date());
  const log = new KitLogger(io.stderr, { processor_ref: def.spec.ref, version: def.version }, now);
  const started = now().getTime();
  try {
    const args = parseKitArgs(io.argv);
    if (!EXECUTION_ID_PATTERN.test(args.executionId))
      throw new WorldloopError('ERR_USAGE', '--execution-id must be a UUIDv7');
    log.setContext({ execution_id: args.executionId });
    const mode = resolveMode(args.mode);
    log.setContext({ mode });
    const writePrefix = canonicalPath(args.writePrefix, 'prefix');
    log.lifecycle('execution.start', { write_prefix: writePrefix });

    await initBlake3();
    const bound = parseJsonBytes(await readSource(args.inputs, '--inputs'));
    // The hash is over the bound inputs (artifact references carry digests), exactly as Admit took it; the
    // schema describes what callers submit; the processor gets verified local paths for artifacts.
    const hash = inputsHash(bound);
    compileInputsSchema(def.spec.inputs, `${def.spec.ref} inputs`)(unbindArtifacts(bound));
    const inputs = await localArtifactInputs(bound, artifactsDirOf(args));
    const settings = await readSettings(args);
    const secrets = await readSecrets(
      def as ProcessorDefinition<never>,
      mode,
      secretDirsOf(args, io.secretsDir ?? DEFAULT_SECRETS_DIR),
      log,
    );

    const runner = def.makeRunner({
      mode,
      executionId: args.executionId,
      inputsHash: hash,
      secrets,
      settings,
      log: (event, fields) => log.event(event, fields),
    });
    log.lifecycle('provider.call', { inputs_hash: hash.value });
    const callStarted = now().getTime();
    const result = await runner(inputs as I);
    checkResult(result);
    let costMicro = result.cost_micro;
    const info: Record<string, unknown> = { ...result.processor_info, processor_version: def.version };
    // The reservation is the contract's upper bound (docs/architecture.md §2); a provider that overspent it is
    // recorded, but the charge never exceeds what was reserved.
    if (costMicro > def.spec.cost.reserve_micro) {
      info.cost_uncapped_micro = costMicro;
      costMicro = def.spec.cost.reserve_micro;
    }
    log.lifecycle('provider.response', {
      duration_ms: now().getTime() - callStarted,
      outputs: result.outputs.length,
      cost_micro: costMicro,
    });

    checkOutputSet(result.outputs);
    checkDeclared(result.outputs, def.spec.outputs);
    await mkdir(args.out, { recursive: true });
    const entries = await writeOutputs(result.outputs, args.out, writePrefix);
    const index: OutputsIndex = { outputs: entries };
    await writeFile(join(args.out, 'outputs.json'), canonicalize(index), { flag: 'wx', mode: 0o644 });
    const receipt: ProcessorReceipt = {
      receipt_schema: PROCESSOR_RECEIPT_SCHEMA,
      execution_id: args.executionId,
      processor_ref: def.spec.ref,
      mode,
      inputs_hash: hash,
      processor_info: info,
      usage: result.usage,
      cost_micro: costMicro,
    };
    await writeFile(join(args.out, 'receipt.json'), canonicalize(receipt), { flag: 'wx', mode: 0o644 });
    log.lifecycle('storage.write', {
      files: entries.length,
      bytes: entries.reduce((n, e) => n + e.size_bytes, 0),
    });
    log.lifecycle('execution.settle', { duration_ms: now().getTime() - started, cost_micro: costMicro });
    return EXIT_OK;
  } catch (err) {
    const code: ErrorCode = err instanceof WorldloopError ? err.code : 'ERR_PROCESSOR_FAILED';
    const message = err instanceof WorldloopError ? err.detail : err instanceof Error ? err.message : String(err);
    log.lifecycle('execution.fail', {
      code,
      message: message.slice(0, 2000),
      duration_ms: now().getTime() - started,
    });
    return exitCodeFor(code);
  }
}

/** The entry point every processor's `src/main.ts` calls. */
export function runProcessorMain<I>(def: ProcessorDefinition<I>): void {
  // Node prints an ExperimentalWarning (on Node 18, the images' runtime before ADR 0019, for every fetch) as
  // plain text on stderr, which would break the one-JSON-object-per-line contract; other warnings become
  // JSON lines.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name === 'ExperimentalWarning') return;
    process.stderr.write(
      `${JSON.stringify({ level: 'warn', event: 'node.warning', name: w.name, message: w.message })}\n`,
    );
  });
  void runProcessor(def, {
    argv: process.argv.slice(2),
    stderr: (line) => process.stderr.write(line),
  }).then((code) => {
    process.exitCode = code;
  });
}
