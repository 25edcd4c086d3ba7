// The front door, client side: `worldloop run` hands its request's draft to the resident worker over its Unix
// socket and reads the run back, so a CLI call loads no Temporal SDK, no request schema and no hashing, and opens
// no gRPC connection of its own (the worker has them loaded and open already). Node built-ins only. The protocol:
// one JSON line from the client, then JSON lines from the worker — a `notice` (the default plan was created), then
// `started`, any number of `phase` (when asked to watch), and one `result` or `error`. An `error` before `started`
// (the draft refused, for one) means nothing was started: the CLI takes the long way, which checks the draft
// again itself and reports the refusal.
import { createConnection } from 'node:net';
import type { PhaseState } from '../../activities';
import type { RunDraft } from '../cli/run-draft';
import type { Envelope } from '../contracts/schemas';

export interface FrontDoorRequest {
  /** Completed and validated by the worker (completeRunRequest) before anything is created. */
  readonly draft: RunDraft;
  readonly detach: boolean;
  /** Send the phase state while the run is going (for the terminal's phase line). */
  readonly watch: boolean;
}

export type FrontDoorMessage =
  | { type: 'notice'; text: string }
  | { type: 'started'; execution_id: string; workflow_id: string; ui: string }
  | { type: 'phase'; state: PhaseState }
  | { type: 'result'; envelope: Envelope }
  | { type: 'error'; message: string };

export interface FrontDoorHandlers {
  /** A line for the user from the worker's side of the run (the default plan's creation). */
  onNotice(text: string): void;
  onStarted(started: Extract<FrontDoorMessage, { type: 'started' }>): void;
  onPhase(state: PhaseState): void;
}

/**
 * Sends one run to the worker at `socketFile`. Resolves the envelope (undefined for a detached run); rejects with
 * `FrontDoorClosed` when the worker cannot be reached before the run started, so the caller can take the long way.
 */
export function runThroughFrontDoor(
  socketFile: string,
  message: FrontDoorRequest,
  handlers: FrontDoorHandlers,
): Promise<Envelope | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketFile);
    let started = false;
    let settled = false;
    let buffered = '';
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      fn();
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(message)}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buffered.slice(0, newline)) as FrontDoorMessage;
        buffered = buffered.slice(newline + 1);
        if (msg.type === 'started') {
          started = true;
          handlers.onStarted(msg);
          if (message.detach) finish(() => resolve(undefined));
        } else if (msg.type === 'notice') handlers.onNotice(msg.text);
        else if (msg.type === 'phase') handlers.onPhase(msg.state);
        else if (msg.type === 'result') finish(() => resolve(msg.envelope));
        else finish(() => reject(started ? new Error(msg.message) : new FrontDoorClosed(msg.message)));
      }
    });
    socket.once('error', (err) => finish(() => reject(started ? err : new FrontDoorClosed(err.message))));
    socket.once('close', () =>
      finish(() =>
        reject(started ? new Error('the resident worker closed the run') : new FrontDoorClosed('closed before start')),
      ),
    );
  });
}

/** The worker could not take the run (nothing was started): the caller may start it the long way. */
export class FrontDoorClosed extends Error {
  override readonly name = 'FrontDoorClosed';
}
