// Following a container's log stream into a bounded stderr tail.
import type Dockerode from 'dockerode';
import { Writable } from 'node:stream';
import { LogTail, TAIL_MAX_LINES, demuxBuffer } from '../log-tail';
import { atMost } from './engine-errors';

export interface LogFollower {
  /** Resolves true when the stream ended by itself, false if it failed. */
  readonly done: Promise<boolean>;
  readonly stop: () => void;
}

const destroy = (s: NodeJS.ReadableStream) => (s as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();

/** One stderr sink feeding two: the bounded tail and a second consumer (the run-log capture). */
function tee(a: Writable, b: Writable): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      a.write(chunk);
      b.write(chunk);
      done();
    },
  });
}

/** Demultiplexes the container's log stream into `tail` (stderr only; stdout is dropped), and `also`. */
export function followLogs(
  docker: Dockerode,
  container: Dockerode.Container,
  tail: LogTail,
  also?: Writable,
): LogFollower {
  let stream: NodeJS.ReadableStream | undefined;
  let stopped = false;
  const done = new Promise<boolean>((resolve) => {
    container.logs({ follow: true, stdout: true, stderr: true }).then(
      (s) => {
        stream = s;
        if (stopped) return destroy(s);
        docker.modem.demuxStream(s, new LogTail(256, 1).sink(), also ? tee(tail.sink(), also) : tail.sink());
        s.on('end', () => resolve(true));
        s.on('close', () => resolve(true));
        s.on('error', () => resolve(false));
      },
      // Logs are diagnostics: a container removed under us or a log driver without read support only
      // costs the tail, never the run.
      () => resolve(false),
    );
  });
  return {
    done,
    stop: () => {
      stopped = true;
      if (stream) destroy(stream);
    },
  };
}

/**
 * The stderr tail once the container has exited: the followed stream when it ended in time, else (a
 * loaded engine can be slow to close a follower) the engine's own last lines, fetched once.
 */
export async function collectTail(
  container: Dockerode.Container,
  follow: LogFollower,
  tail: LogTail,
): Promise<LogTail> {
  let ended = false;
  await atMost(
    follow.done.then((ok) => (ended = ok)),
    5_000,
  );
  if (ended) return tail;
  follow.stop();
  try {
    const buf = (await container.logs({
      follow: false,
      stdout: false,
      stderr: true,
      tail: TAIL_MAX_LINES + 1,
    })) as unknown;
    const fresh = new LogTail();
    if (Buffer.isBuffer(buf)) demuxBuffer(buf, (chunk) => fresh.push(chunk));
    return fresh.totalBytes > 0 ? fresh : tail;
  } catch {
    return tail;
  }
}
