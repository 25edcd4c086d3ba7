// Execute: run the pinned image through the adapter, heartbeating, then stage what the processor wrote
// as content-addressed blobs. Staging is not landing: nothing is bound to a world path until Settle has
// verified it, but the bytes are safe in the store even if this worker disappears.
import { CancelledFailure, Context } from '@temporalio/activity';
import { lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorldloopError, isErrorCode } from '../src/contracts';
import type { ActivityDeps } from './deps';
import type { ExecuteInput, ExecuteResult, StagedFile } from './types';

const TOP_LEVEL_ALLOWED = new Set(['outputs', 'outputs.json', 'receipt.json']);

async function readJsonOrNull(path: string): Promise<unknown> {
  try {
    const info = await lstat(path);
    if (!info.isFile()) return null;
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}

/** Walks out/outputs without following links; anything but a regular file or folder is a violation. */
async function stage(deps: ActivityDeps, outDir: string): Promise<{ staged: StagedFile[]; violations: string[] }> {
  const staged: StagedFile[] = [];
  const violations: string[] = [];
  const top = await readdir(outDir).catch(() => undefined);
  if (!top) return { staged, violations: ['the processor left no out/ folder'] };
  for (const name of top) if (!TOP_LEVEL_ALLOWED.has(name)) violations.push(`unexpected ${name} outside outputs/`);
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(outDir, rel));
    for (const name of entries.sort()) {
      const relpath = `${rel}/${name}`;
      const info = await lstat(join(outDir, relpath));
      if (info.isSymbolicLink()) violations.push(`${relpath} is a symbolic link`);
      else if (info.isDirectory()) await walk(relpath);
      else if (!info.isFile()) violations.push(`${relpath} is not a regular file`);
      else if (info.nlink > 1) violations.push(`${relpath} is a hard link`);
      else staged.push({ relpath, ...(await deps.world.putBlobFromFile(join(outDir, relpath))) });
    }
  };
  const outputs = await lstat(join(outDir, 'outputs')).catch(() => undefined);
  if (outputs?.isDirectory()) await walk('outputs');
  else if (outputs) violations.push('outputs is not a folder');
  return { staged, violations };
}

export function makeExecute(deps: ActivityDeps) {
  return async function execute({ execution_id, request, admitted }: ExecuteInput): Promise<ExecuteResult> {
    const ctx = Context.current();
    const adapter = deps.adapters[admitted.adapter];
    if (!adapter)
      throw new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `adapter "${admitted.adapter}" is not configured`);
    const secrets: Record<string, string> = {};
    if (admitted.mode === 'real') {
      const resolver = deps.secretsFor('real');
      for (const name of admitted.secret_names) secrets[name] = resolver.resolve(name);
    }
    const workdir = deps.workdirFor(execution_id);
    await mkdir(workdir, { recursive: true });
    const outcome = await adapter.invoke(
      {
        execution_id,
        processor_ref: request.processor_ref,
        image: admitted.image,
        platform: admitted.platform.replace(/^linux\//, '') as 'amd64' | 'arm64',
        mode: admitted.mode,
        inputs: request.inputs,
        write_prefix: admitted.write_prefix,
        runtime: admitted.runtime,
        secrets,
        env_fingerprint: admitted.env_fingerprint,
        workdir,
        // Declared, validated processor settings (ADR 0004); the adapter writes them to /work/config.json.
        ...(admitted.config ? { config: admitted.config } : {}),
      },
      {
        signal: ctx.cancellationSignal,
        heartbeat: (detail) => ctx.heartbeat(detail),
        // A worker that shuts down leaves the container running; the retry on another worker adopts it.
        detachOn: (reason) => reason instanceof CancelledFailure && reason.message === 'WORKER_SHUTDOWN',
      },
    );
    if (outcome.envelope.status === 'error') {
      const { code, message } = outcome.envelope.error;
      throw new WorldloopError(isErrorCode(code) ? code : 'ERR_PROCESSOR_FAILED', message);
    }
    const { staged, violations } = await stage(deps, outcome.out_dir);
    return {
      envelope: outcome.envelope,
      exit_code: outcome.exit_code,
      started_at: outcome.started_at,
      finished_at: outcome.finished_at,
      staged,
      violations,
      processor_index: await readJsonOrNull(join(outcome.out_dir, 'outputs.json')),
      processor_receipt: await readJsonOrNull(join(outcome.out_dir, 'receipt.json')),
    };
  };
}
