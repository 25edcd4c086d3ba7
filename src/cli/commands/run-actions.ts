// The actions behind `worldloop run|show|ls|worker` (registered in run.ts). Loaded on demand, because the
// Temporal SDK takes a noticeable moment to import and `worldloop path canon` should not pay for it.
import {
  CancelledFailure,
  Client,
  TerminatedFailure,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import type { PhaseState } from '../../../activities';
import { config, type Config } from '../../config';
import {
  ErrorEnvelopeSchema,
  MICRO_PER_USD,
  ReceiptSchema,
  RunRequestSchema,
  WorldloopError,
  type Envelope,
  type RunRequest,
} from '../../contracts';
import { assertModeSafe, resolveMode } from '../../contracts/mode';
import { defaultWritePrefix, determinismPath, expandWritePrefix } from '../../contracts/write-prefix';
import { connectTemporal, uiLinkForWorkflow, type TemporalConnection } from '../../temporal';
import { WORLDLOOP_VERSION, startWorker, type RunningWorker } from '../../temporal/worker';
import { createLogger } from '../../log';
import { canonicalPath, openWorld } from '../../world';
import { phaseQuery, runProcessor } from '../../../workflows';
import { EXIT_OK, exitCodeFor, printJson } from '../output';

import { DEFAULT_PLAN, DEFAULT_PLAN_BUDGET_USD, type RunOptions } from './run';

async function readInputs(spec: string): Promise<unknown> {
  let text = spec;
  if (spec.startsWith('@')) {
    try {
      text = await readFile(spec.slice(1), 'utf8');
    } catch (err) {
      throw new WorldloopError('ERR_INPUTS', `cannot read ${spec.slice(1)}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new WorldloopError('ERR_INPUTS', `--inputs is not JSON: ${(err as Error).message}`);
  }
}

/** Builds and validates the request entirely on the client, so bad input never starts a workflow. */
export async function buildRunRequest(ref: string, opts: RunOptions, cfg: Config): Promise<RunRequest> {
  // The CI guard comes first: nothing starts, nothing connects (DESIGN.md §3).
  const mode = resolveMode(opts.mode ?? cfg.modeSetting);
  assertModeSafe(mode, cfg.ci);
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
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'request';
    const code =
      field === 'processor_ref' ? 'ERR_UNKNOWN_PROCESSOR' : field === 'mode' ? 'ERR_MODE_INVALID' : 'ERR_INPUTS';
    throw new WorldloopError(code, `${field}: ${issue.message}`);
  }
  // Validate the prefix grammar now with a stand-in id; Admit checks it again with the real one.
  canonicalPath(expandWritePrefix(parsed.data.write_prefix, '00000000-0000-7000-8000-000000000000'), 'prefix');
  return parsed.data;
}

const WORKER_PICKUP_MS = 2_000;

/** True once a worker has completed the run's first workflow task. */
async function pickedUp(handle: WorkflowHandle, withinMs: number): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    if ((await handle.describe()).historyLength > 3) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function hasPollers(temporal: TemporalConnection, taskQueue: string): Promise<boolean> {
  const response = await temporal.connection.workflowService.describeTaskQueue({
    namespace: temporal.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (response.pollers ?? []).length > 0;
}

/** `<stateDir>/logs/worldloop.log`: JSON lines, redacted like every worldloop log. */
function fileLogger(cfg: Config) {
  const dir = join(cfg.stateDir, 'logs');
  mkdirSync(dir, { recursive: true });
  return createLogger({
    level: cfg.logLevel,
    context: { version: WORLDLOOP_VERSION },
    destination: createWriteStream(join(dir, 'worldloop.log'), { flags: 'a' }),
  });
}

let runtimeInstalled = false;
/** The SDK logs to the console by default; the CLI keeps the terminal for the run itself. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  runtimeInstalled = true;
}

async function ensureDefaultPlan(cfg: Config, plan: string): Promise<void> {
  if (plan !== DEFAULT_PLAN) return;
  const { ledger: plans } = openWorld(cfg);
  try {
    await plans.getPlan(plan);
  } catch (err) {
    if (!(err instanceof WorldloopError && err.code === 'ERR_PLAN_NOT_FOUND')) throw err;
    await plans.createPlan(plan, DEFAULT_PLAN_BUDGET_USD * MICRO_PER_USD);
    process.stderr.write(
      `created plan "${plan}" with a budget of $${DEFAULT_PLAN_BUDGET_USD} (see \`worldloop plan show ${plan}\`)\n`,
    );
  }
}

const PHASE_LABELS = ['admit', 'reserve', 'execute', 'settle', 'recheck'] as const;

/** The live phase line on a terminal: `admit ✓ reserve ✓ execute … 1.2s`. */
function renderPhases(state: PhaseState | undefined, elapsedMs: number): string {
  const parts = PHASE_LABELS.map((p) => {
    if (state?.completed.includes(p)) return `${p} ✓`;
    if (state?.cache_hit && (p === 'reserve' || p === 'execute') && !state.completed.includes(p)) return `${p} –`;
    if (state?.phase === p) return `${p} …`;
    if (state?.phase === 'failed' && state.completed.length === PHASE_LABELS.indexOf(p)) return `${p} ✗`;
    return p;
  });
  const cache = state?.cache_hit ? ' (cache hit)' : '';
  return `${parts.join('  ')}${cache}  ${(elapsedMs / 1000).toFixed(1)}s`;
}

async function watchPhases(handle: WorkflowHandle, stop: Promise<unknown>): Promise<void> {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let finished = false;
  void stop.finally(() => {
    finished = true;
  });
  let last = '';
  let state: PhaseState | undefined;
  while (!finished) {
    try {
      state = await handle.query(phaseQuery);
    } catch {
      // the workflow may not have run its first task yet
    }
    const line = renderPhases(state, performance.now() - started);
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (withoutElapsed(line) !== withoutElapsed(last)) process.stderr.write(`${line}\n`);
    last = line;
    await Promise.race([stop, new Promise((r) => setTimeout(r, 150))]);
  }
  try {
    state = await handle.query(phaseQuery);
  } catch {
    // closed workflows answer queries from their history; an old server may not
  }
  const line = renderPhases(state, performance.now() - started);
  if (tty) process.stderr.write(`\r\x1b[2K${line}\n`);
  else if (withoutElapsed(line) !== withoutElapsed(last)) process.stderr.write(`${line}\n`);
}

const withoutElapsed = (line: string) => line.replace(/\s+[\d.]+s$/, '');

/** Reads the envelope back from a finished run: the result, or the error envelope in the failure details. */
export async function envelopeOf(handle: WorkflowHandle): Promise<Envelope> {
  try {
    return (await handle.result()) as Envelope;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause as { details?: unknown[]; type?: string; message?: string } | undefined;
      const parsed = ErrorEnvelopeSchema.safeParse(cause?.details?.[0]);
      if (parsed.success) return parsed.data;
      const id = handle.workflowId.replace(/^run\//, '');
      // No envelope in the failure: the run was cancelled or terminated from outside, or something
      // failed before our workflow code could build one.
      const stopped = err.cause instanceof CancelledFailure || err.cause instanceof TerminatedFailure;
      return {
        status: 'error',
        execution_id: id,
        error: {
          code: stopped ? 'ERR_CANCELLED' : 'ERR_INTERNAL',
          message: (cause?.message ?? err.message).replace(/^\[ERR_[A-Z0-9_]+\]\s*/, ''),
        },
        meta: {
          env_fingerprint: '',
          image_digest: '',
          adapter: 'local',
          mode: 'mock',
          duration_ms: 0,
          cache_hit: false,
          cost_micro: 0,
        },
      };
    }
    throw err;
  }
}

function printEnvelopeHuman(envelope: Envelope, link: string): void {
  if (envelope.status === 'success') {
    const lines = [
      `✓ ${envelope.execution_id} succeeded${envelope.meta.cache_hit ? ' (cache hit)' : ''} in ${envelope.meta.duration_ms} ms, cost $${(envelope.meta.cost_micro / MICRO_PER_USD).toFixed(6)}`,
      ...envelope.outputs.map((o) => `  output   ${o}`),
      `  index    ${envelope.index_path}`,
      `  receipt  ${envelope.index_path.replace(/outputs\.json$/, 'receipt.json')}`,
      `  image    ${envelope.meta.image_digest}`,
      `  history  ${link}`,
      `  show     worldloop show ${envelope.execution_id}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    process.stderr.write(
      `✗ ${envelope.execution_id} failed: ${envelope.error.code}: ${envelope.error.message}\n  history  ${link}\n`,
    );
  }
}

export async function runCommand(ref: string, opts: RunOptions): Promise<number> {
  const cfg = config();
  const request = await buildRunRequest(ref, opts, cfg);
  quietRuntime();
  const temporal = await connectTemporal(cfg);
  let embedded: RunningWorker | undefined;
  try {
    await ensureDefaultPlan(cfg, request.plan);
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
    const embed = () => startWorker(cfg, temporal, { logger: fileLogger(cfg) });
    const mayEmbed = !opts.detach && cfg.temporal.embeddedWorker;
    // The embedded worker logs to a file: the terminal belongs to the run's own display.
    if (mayEmbed && !(await hasPollers(temporal, cfg.temporal.taskQueue))) embedded = await embed();
    const execution_id = uuidv7();
    const handle = await client.workflow.start(runProcessor, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: `run/${execution_id}`,
      args: [{ execution_id, request }],
    });
    // Temporal keeps listing a poller for minutes after its process died (e.g. the previous `run`).
    // If nobody picks the run up promptly, this process becomes the worker.
    if (mayEmbed && !embedded && !(await pickedUp(handle, WORKER_PICKUP_MS))) embedded = await embed();
    const link = uiLinkForWorkflow(temporal.uiUrl, temporal.namespace, handle.workflowId, handle.firstExecutionRunId);
    if (opts.detach) {
      if (opts.json) printJson({ execution_id, workflow_id: handle.workflowId, ui: link });
      else
        process.stdout.write(
          `started ${execution_id}\n  history  ${link}\n  show     worldloop show ${execution_id}\n`,
        );
      return EXIT_OK;
    }
    if (!opts.json) process.stderr.write(`run ${execution_id}  ${link}\n`);
    const result = envelopeOf(handle);
    if (!opts.json)
      await watchPhases(
        handle,
        result.catch(() => undefined),
      );
    const envelope = await result;
    if (opts.json) printJson(envelope);
    else {
      printEnvelopeHuman(envelope, link);
      if (embedded && envelope.status === 'error')
        process.stderr.write(`  log      ${join(cfg.stateDir, 'logs', 'worldloop.log')}\n`);
    }
    return envelope.status === 'success' ? EXIT_OK : exitCodeFor(envelope.error.code);
  } finally {
    await embedded?.shutdown();
    await temporal.connection.close();
  }
}

export async function showCommand(executionId: string, opts: { json?: boolean }): Promise<number> {
  const cfg = config();
  const temporal = await connectTemporal(cfg);
  try {
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
    const handle = client.workflow.getHandle(`run/${executionId}`);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new WorldloopError('ERR_NOT_FOUND', `no run with execution id ${executionId}`);
      throw err;
    }
    const status = description.status.name;
    const envelope = status === 'RUNNING' ? undefined : await envelopeOf(handle);
    const { world } = openWorld(cfg);
    const receiptPath = determinismPath(executionId);
    const receipt = (await world.stat(receiptPath))
      ? ReceiptSchema.parse(JSON.parse(new TextDecoder().decode(await world.readBytes(receiptPath))))
      : undefined;
    const link = uiLinkForWorkflow(temporal.uiUrl, temporal.namespace, handle.workflowId, description.runId);
    if (opts.json) {
      printJson({ execution_id: executionId, status, envelope: envelope ?? null, receipt: receipt ?? null, ui: link });
      return EXIT_OK;
    }
    const lines = [`execution  ${executionId}`, `status     ${status}`, `history    ${link}`];
    if (envelope?.status === 'error') lines.push(`error      ${envelope.error.code}: ${envelope.error.message}`);
    if (receipt) {
      lines.push(
        `processor  ${receipt.processor_ref}  (${receipt.mode}, ${receipt.adapter}, ${receipt.platform})`,
        `image      ${receipt.image_digest}`,
        `inputs     ${receipt.inputs_hash.hash_schema}:${receipt.inputs_hash.value}`,
        `cache      ${receipt.cache.hit ? `hit, from ${receipt.cache.source_execution_id}` : 'miss'}`,
        `cost       $${(receipt.cost_micro / MICRO_PER_USD).toFixed(6)}   duration ${receipt.duration_ms} ms`,
        `receipt    ${receiptPath}`,
        `index      ${receipt.outputs_index.path}  blake3:${receipt.outputs_index.blake3}`,
        'outputs',
        ...receipt.outputs.map((o) => `  ${o.path}  ${o.size_bytes} B  blake3:${o.blake3.slice(0, 16)}…`),
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return EXIT_OK;
  } finally {
    await temporal.connection.close();
  }
}

export async function lsCommand(opts: { json?: boolean; limit: string }): Promise<number> {
  const cfg = config();
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new WorldloopError('ERR_USAGE', '--limit must be 1–1000');
  const temporal = await connectTemporal(cfg);
  try {
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
    const rows: Record<string, unknown>[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'runProcessor'` })) {
      const sa = wf.searchAttributes as Record<string, unknown[] | undefined>;
      rows.push({
        execution_id: wf.workflowId.replace(/^run\//, ''),
        status: wf.status.name,
        processor_ref: sa.WorldloopProcessorRef?.[0] ?? '',
        mode: sa.WorldloopMode?.[0] ?? '',
        cache_hit: sa.WorldloopCacheHit?.[0] ?? null,
        started: wf.startTime.toISOString(),
      });
      if (rows.length >= limit) break;
    }
    if (opts.json) printJson(rows);
    else {
      for (const r of rows) {
        process.stdout.write(
          `${String(r.started)}  ${String(r.status).padEnd(10)} ${String(r.processor_ref).padEnd(16)} ${String(r.mode).padEnd(5)} ${r.cache_hit === true ? 'hit ' : '    '} ${String(r.execution_id)}\n`,
        );
      }
      if (rows.length === 0)
        process.stdout.write('no runs yet — try: worldloop run text/stats@1 --inputs \'{"text":"hello world"}\'\n');
    }
    return EXIT_OK;
  } finally {
    await temporal.connection.close();
  }
}

export async function workerCommand(): Promise<number> {
  const cfg = config();
  const temporal = await connectTemporal(cfg);
  const running = await startWorker(cfg, temporal);
  process.stderr.write(
    `worker polling task queue "${cfg.temporal.taskQueue}" on ${temporal.address} (Ctrl-C to stop)\n`,
  );
  const stop = () => void running.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await running.done;
  await temporal.connection.close();
  return EXIT_OK;
}
