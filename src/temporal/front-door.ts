// The front door, worker side: the resident worker takes runs from `worldloop run` on a Unix socket in the state
// folder (mode 0600) and starts them with its own, already open, Temporal client — the CLI then needs neither the
// SDK nor a connection of its own. The worker completes the CLI's draft into a validated request (the same
// completeRunRequest the CLI runs on the long way, so the CLI loads no schema or hashing module), creates the
// default plan on first use as the CLI would, and runs the same `startRun` + `runEnvelope` the CLI would call.
import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Client } from '@temporalio/client';
import { createDefaultPlanIfMissing } from '../cli/default-plan';
import { completeRunRequest } from '../cli/run-request';
import type { Config } from '../config';
import type { Logger } from '../log';
import { queryPhase, runEnvelope, startRun } from './client';
import { uiLinkForWorkflow, type TemporalConnection } from './connection';
import type { FrontDoorMessage, FrontDoorRequest } from './front-door-client';

const PHASE_POLL_MS = 150;
/** The draft carries up to MAX_INPUTS_TEXT_BYTES (4 MiB) of inputs in base64, with room for the rest. */
const MAX_REQUEST_BYTES = 8 << 20;

async function serve(socket: Socket, line: string, ctx: FrontDoorContext): Promise<void> {
  const send = (msg: FrontDoorMessage) => socket.writable && socket.write(`${JSON.stringify(msg)}\n`);
  const body = JSON.parse(line) as Partial<FrontDoorRequest>;
  if (!body.draft) throw new Error('the request names no run');
  const request = completeRunRequest(body.draft);
  const notice = await createDefaultPlanIfMissing(ctx.cfg, request.plan);
  if (notice) send({ type: 'notice', text: notice });
  const { execution_id, handle } = await startRun(ctx.client, { taskQueue: ctx.taskQueue, request, eager: true });
  send({
    type: 'started',
    execution_id,
    workflow_id: handle.workflowId,
    ui: uiLinkForWorkflow(ctx.temporal.uiUrl, ctx.temporal.namespace, handle.workflowId, handle.firstExecutionRunId),
  });
  if (body.detach) return;
  const result = runEnvelope(handle);
  if (body.watch) {
    let done = false;
    void result.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      const state = await queryPhase(handle);
      if (state && !done) send({ type: 'phase', state });
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, PHASE_POLL_MS))]);
    }
  }
  send({ type: 'result', envelope: await result });
}

interface FrontDoorContext {
  /** The worker's settings: where the world (and the default plan) is. */
  readonly cfg: Config;
  /** The worker's own client (RunningWorker.client), so runs start eagerly on this worker. */
  readonly client: Client;
  readonly temporal: TemporalConnection;
  readonly taskQueue: string;
  readonly logger: Logger;
}

/** Listens on `socketFile` (replacing a stale one) until the returned server is closed. */
export async function openFrontDoor(socketFile: string, ctx: FrontDoorContext): Promise<Server> {
  await rm(socketFile, { force: true });
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    let buffered = '';
    const onData = (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      socket.off('data', onData);
      serve(socket, buffered.slice(0, newline), ctx)
        .catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          ctx.logger.warn({ event: 'worker.front_door', err: message }, 'a run through the front door failed');
          if (socket.writable)
            socket.write(`${JSON.stringify({ type: 'error', message } satisfies FrontDoorMessage)}\n`);
        })
        .finally(() => socket.end());
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketFile, () => resolve());
  });
  await chmod(socketFile, 0o600);
  return server;
}
