// Telling an engine stop from the processor's own failure (issue 13 item 1, dockerd restart mid-run).
//
// An exit code cannot: a processor may exit 137 by itself, and a container stopped by the engine exits 137
// too (the processor is PID 1, so it ignores the SIGTERM of a stop and is SIGKILLed after the stop
// timeout). What can is what the attempt watching the container saw while it ran:
//   - the engine reported a `kill` of the container that this adapter did not send (dockerd shutting down
//     without --live-restore stops every container; so does `docker stop`/`docker kill` by hand), or
//   - the engine went away while the container was running (dockerd killed or restarting), so whatever
//     happened to the container next (killed at restore without --live-restore) nobody watched it.
// Either is written down at once as a mark in the workdir, keyed by container id, because the worker's next
// engine call may already fail and the attempt that finalises the container may be a later one. A container
// that then exits non-zero, not OOM-killed and not past its deadline, was stopped by the engine: it is
// removed without recording an outcome and the run is retried in a fresh container (ERR_ENGINE_STOPPED).
import type Dockerode from 'dockerode';
import { readFile, rm } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../../write-file-atomic';

const EngineLostMarkSchema = z.strictObject({ container_id: z.string(), reason: z.string(), at: z.string() });
export type EngineLostMark = z.infer<typeof EngineLostMarkSchema>;

export async function markEngineLost(path: string, containerId: string, reason: string): Promise<void> {
  const mark: EngineLostMark = { container_id: containerId, reason, at: new Date().toISOString() };
  await writeFileAtomic(path, JSON.stringify(mark), { mode: 0o644 });
}

/** The mark for this container, if the engine lost sight of it while an attempt watched it. */
export async function engineLostMark(path: string, containerId: string): Promise<EngineLostMark | undefined> {
  try {
    const parsed = EngineLostMarkSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success && parsed.data.container_id === containerId ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function clearEngineLostMark(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** A non-zero exit of a container the engine stopped or lost sight of, not the processor's own failure. */
export async function stoppedByEngine(
  final: Dockerode.ContainerInspectInfo,
  watch: KillWatch | undefined,
  markPath: string,
): Promise<boolean> {
  if (final.State.ExitCode === 0 || final.State.OOMKilled) return false;
  // The kill event travels on its own connection and may trail the exit by a moment.
  if (watch && !watch.outsideKill) await new Promise((r) => setTimeout(r, 500));
  return watch?.outsideKill !== undefined || (await engineLostMark(markPath, final.Id)) !== undefined;
}

interface KillEvent {
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

/**
 * Watches the engine's `kill` events of one container while it runs. Kills this adapter sends itself
 * (deadline, cancel, output limit) are announced first with `expectOwnKill`; any other is reported once
 * through `onOutsideKill`.
 */
export class KillWatch {
  #stream: NodeJS.ReadableStream | undefined;
  #own = false;
  #outside: string | undefined;
  #pending = '';

  private constructor(private readonly onOutsideKill: (signal: string) => void) {}

  /** Starts watching; a watch that cannot start (engine away) simply reports nothing. */
  static async start(
    docker: Dockerode,
    containerId: string,
    onOutsideKill: (signal: string) => void,
  ): Promise<KillWatch> {
    const watch = new KillWatch(onOutsideKill);
    try {
      const stream = await docker.getEvents({ filters: { container: [containerId], event: ['kill'] } });
      watch.#stream = stream;
      stream.on('data', (chunk: Buffer) => watch.#read(chunk.toString('utf8')));
      stream.on('error', () => undefined);
    } catch {
      // Without events only the engine-unreachable mark remains; that is the weaker, not a wrong, answer.
    }
    return watch;
  }

  #read(text: string): void {
    const lines = (this.#pending + text).split('\n');
    this.#pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let event: KillEvent;
      try {
        event = JSON.parse(line) as KillEvent;
      } catch {
        continue;
      }
      if (event.Action !== 'kill' || this.#own || this.#outside !== undefined) continue;
      this.#outside = event.Actor?.Attributes?.signal ?? 'unknown';
      this.onOutsideKill(this.#outside);
    }
  }

  /** From now on every kill is ours (the adapter is about to send one). */
  expectOwnKill(): void {
    this.#own = true;
  }

  /** The signal of a kill someone else sent, if one was seen. */
  get outsideKill(): string | undefined {
    return this.#outside;
  }

  stop(): void {
    const stream = this.#stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    stream?.destroy?.();
    this.#stream = undefined;
  }
}
