// A phase environment for unit tests: the real activities (createActivities) over a real world store,
// ledger and leases in a temp folder, with a scripted adapter that writes an out/ folder the way a
// processor would — no Docker, no Temporal server (MockActivityEnvironment supplies the activity context).
import type { Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { createActivities, type ActivityDeps } from '../../activities';
import type { AdmitResult, ExecuteResult, ReserveResult } from '../../activities';
import type { Adapter, InvokeArgs, InvokeOutcome } from '../../src/adapters/adapter';
import {
  RegistryEntrySchema,
  WorldloopError,
  isErrorCode,
  type RegistryEntry,
  type RunRequest,
  type SuccessEnvelope,
} from '../../src/contracts';
import { blake3Hex, inputsHash } from '../../src/hashing';
import { ed25519Signer, keyIdOf } from '../../src/provenance';
import { createSecretResolver } from '../../src/secrets';
import { Leases, Ledger, LocalObjectStore, WorldStore, joinWorldPath } from '../../src/world';

export const REF = 'test/echo@1';
export const DIGEST = `sha256:${'a'.repeat(64)}`;
export const PLAN = 'p';

/** What a scripted processor does with its out/ folder. */
export type ProcessorScript = (outDir: string, args: InvokeArgs) => Promise<void>;

export class ScriptedAdapter implements Adapter {
  readonly name = 'local' as const;
  invocations = 0;
  constructor(public script: ProcessorScript) {}

  async invoke(args: InvokeArgs): Promise<InvokeOutcome> {
    this.invocations += 1;
    const out = join(args.workdir, 'out');
    await mkdir(out, { recursive: true });
    await this.script(out, args);
    return {
      envelope: {
        status: 'success',
        execution_id: args.execution_id,
        outputs: [],
        index_path: `${args.write_prefix}outputs.json`,
        meta: {
          env_fingerprint: args.env_fingerprint,
          image_digest: DIGEST,
          adapter: 'local',
          mode: args.mode,
          duration_ms: 5,
          cache_hit: false,
          cost_micro: 0,
        },
      },
      exit_code: 0,
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:00.005Z',
      out_dir: out,
      stderr_tail: '',
      adopted: false,
    };
  }
}

export interface IndexedFile {
  relpath: string;
  bytes: Uint8Array;
}

export function indexEntry(prefix: string, f: IndexedFile) {
  return {
    path: joinWorldPath(prefix, f.relpath),
    size_bytes: f.bytes.byteLength,
    blake3: blake3Hex(f.bytes),
    sha256: createHash('sha256').update(f.bytes).digest('hex'),
    mime: 'application/octet-stream',
  };
}

export function processorReceipt(args: InvokeArgs, cost = 0, over: Record<string, unknown> = {}) {
  return {
    receipt_schema: 'worldloop.processor-receipt/v1',
    execution_id: args.execution_id,
    processor_ref: args.processor_ref,
    mode: args.mode,
    inputs_hash: inputsHash(args.inputs),
    processor_info: { name: 'echo' },
    usage: { calls: 1 },
    cost_micro: cost,
    ...over,
  };
}

/** Writes files plus a correct outputs.json and receipt.json — what a well-behaved processor leaves. */
export async function writeOutputs(
  out: string,
  args: InvokeArgs,
  files: IndexedFile[],
  options: { cost?: number; index?: unknown; receipt?: unknown } = {},
): Promise<void> {
  for (const f of files) {
    await mkdir(dirname(join(out, f.relpath)), { recursive: true });
    await writeFile(join(out, f.relpath), f.bytes);
  }
  const entries = files
    .map((f) => indexEntry(args.write_prefix, f))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  await writeFile(join(out, 'outputs.json'), JSON.stringify(options.index ?? { outputs: entries }));
  await writeFile(join(out, 'receipt.json'), JSON.stringify(options.receipt ?? processorReceipt(args, options.cost)));
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The script of a processor that writes `outputs/result.txt` = the text input. */
export const echoScript: ProcessorScript = (out, args) =>
  writeOutputs(out, args, [{ relpath: 'outputs/result.txt', bytes: text(String(args.inputs.text)) }], { cost: 7 });

export function registryEntry(over: Record<string, unknown> = {}): RegistryEntry {
  return RegistryEntrySchema.parse({
    ref: REF,
    description: 'echo for unit tests',
    image: {
      repository: '127.0.0.1:5000/worldloop/worldloop/echo',
      platforms: { amd64: `127.0.0.1:5000/worldloop/worldloop/echo@${DIGEST}` },
    },
    build: { context: 'x', dockerfile: 'x/Dockerfile', entry: 'x/main.ts' },
    runtime: { cpu: 0.5, memory_mb: 128, timeout_s: 30, network: 'none' },
    inputs: {
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: { text: { type: 'string', maxLength: 1000 } },
    },
    outputs: ['outputs/result.txt'],
    cost: { reserve_micro: 100 },
    deterministic: true,
    ...over,
  });
}

/** One Ed25519 key for every phase environment of a test file (attestations are signed with it). */
export const signingKey: KeyObject = generateKeyPairSync('ed25519').privateKey;

export interface PhaseEnv {
  dir: string;
  objects: LocalObjectStore;
  world: WorldStore;
  plans: Ledger;
  leases: Leases;
  adapter: ScriptedAdapter;
  entry: RegistryEntry;
  deps: ActivityDeps;
  running: Set<string>;
  activities: ReturnType<typeof createActivities>;
  cleanup(): Promise<void>;
}

export async function phaseEnv(
  options: {
    entry?: RegistryEntry;
    script?: ProcessorScript;
    budget?: number;
    ci?: boolean;
    secretEnv?: Record<string, string>;
  } = {},
): Promise<PhaseEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'worldloop-phase-'));
  const objects = new LocalObjectStore(join(dir, 'store'));
  const world = new WorldStore(objects);
  const plans = new Ledger(objects);
  const leases = new Leases(objects);
  const adapter = new ScriptedAdapter(options.script ?? echoScript);
  const entry = options.entry ?? registryEntry();
  const running = new Set<string>();
  await plans.createPlan(PLAN, options.budget ?? 1000);
  const deps: ActivityDeps = {
    ci: options.ci ?? false,
    version: '0.0.0-test',
    platform: 'amd64',
    getEntry(ref) {
      if (ref !== entry.ref) throw new WorldloopError('ERR_UNKNOWN_PROCESSOR', `no processor ${ref}`);
      return entry;
    },
    world,
    plans,
    leases,
    adapters: { local: adapter },
    secretsFor: (mode) =>
      createSecretResolver({
        mode,
        allow: new Set(['API_KEY']),
        env: options.secretEnv ?? {},
        secretsDir: join(dir, 'secrets'),
      }),
    // No processor settings: runs keep the fingerprint they had before settings existed (ADR 0009).
    processorConfigEnv: {},
    workdirFor: (id) => join(dir, 'work', id),
    flights: { isRunning: async (id) => running.has(id) },
    signer: ed25519Signer(signingKey, keyIdOf(createPublicKey(signingKey))),
    logger: pino({ level: 'silent' }),
  };
  return {
    dir,
    objects,
    world,
    plans,
    leases,
    adapter,
    entry,
    deps,
    running,
    activities: createActivities(deps),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs an activity the way a worker would (an activity context, heartbeats accepted). */
export function inActivity<I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> {
  return new MockActivityEnvironment(undefined, { logger: silent }).run(fn, input);
}

const quiet = (): void => undefined;
/** Refusals are expected here; the SDK's per-failure warning would only bury the test report. */
const silent: Logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };

/** The catalogue code an activity failed with (its ApplicationFailure type), or undefined on success. */
export async function failureCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    const type = (err as { type?: unknown }).type;
    return isErrorCode(type) ? type : `not coded: ${String(err)}`;
  }
  return undefined;
}

export function request(over: Partial<RunRequest> = {}): RunRequest {
  return {
    processor_ref: REF,
    inputs: { text: 'hello' },
    mode: 'mock',
    plan: PLAN,
    write_prefix: 'world://artifacts/runs/{execution_id}/',
    adapter: 'local',
    ...over,
  };
}

export const prefixOf = (id: string) => `world://artifacts/runs/${id}/`;

export async function admit(env: PhaseEnv, id: string, req = request()): Promise<AdmitResult> {
  return inActivity(env.activities.admit, { execution_id: id, request: req, write_prefix: prefixOf(id) });
}

export async function reserve(
  env: PhaseEnv,
  id: string,
  admitted: AdmitResult,
  req = request(),
): Promise<ReserveResult> {
  return inActivity(env.activities.reserve, { execution_id: id, plan: req.plan, admitted });
}

export async function execute(
  env: PhaseEnv,
  id: string,
  admitted: AdmitResult,
  req = request(),
): Promise<ExecuteResult> {
  return inActivity(env.activities.execute, { execution_id: id, request: req, admitted });
}

export const WORKFLOW = { id: 'run/x', run_id: 'r' };

/** Execute for an already admitted and reserved run; returns Settle's input. */
export async function upToSettleFrom(env: PhaseEnv, id: string, admitted: AdmitResult, req = request()) {
  const executed = await execute(env, id, admitted, req);
  return { executed, settleInput: { execution_id: id, request: req, admitted, executed, workflow: WORKFLOW } };
}

/** Admit → Reserve → Execute, as the workflow runs them on a cache miss. */
export async function upToSettle(env: PhaseEnv, id: string, req = request()) {
  const admitted = await admit(env, id, req);
  const reserved = await reserve(env, id, admitted, req);
  if (reserved.status !== 'reserved') throw new Error(`expected a reservation, got ${reserved.status}`);
  const executed = await execute(env, id, admitted, req);
  return {
    admitted,
    executed,
    settleInput: { execution_id: id, request: req, admitted, executed, workflow: WORKFLOW },
  };
}

export async function settle(env: PhaseEnv, id: string, req = request()): Promise<SuccessEnvelope> {
  const { settleInput } = await upToSettle(env, id, req);
  return inActivity(env.activities.settle, settleInput);
}

/**
 * Number of blobs in the store, to prove a refusal copied nothing — not counting the run's kept processor
 * log (world://artifacts/execution/<id>/logs.jsonl), which Execute keeps whatever staging decides.
 */
export async function blobCount(env: PhaseEnv): Promise<number> {
  const logs = (await env.world.list('world://artifacts/execution/')).filter((e) => e.path.endsWith('/logs.jsonl'));
  const kept = new Set(logs.map((e) => e.blake3));
  return (await env.objects.list('blobs/')).filter((key) => !kept.has(key.slice(key.lastIndexOf('/') + 1))).length;
}
