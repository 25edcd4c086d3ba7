// `worldloop logs --follow`: print a run's lifecycle events as they appear and stop when the run ends.
// The sources are injected (the CLI wires Temporal, the world and the Docker engine), so the loop — what
// to print, when to stop — is tested without them. Events are keyed by name: each is printed once, first
// from the running container's live log, then from the kept artifact, which is the record of the run.
import { selectLifecycleLines } from './lifecycle-lines';

export interface FollowSources {
  /** The kept logs.jsonl text, or undefined while it has not landed. */
  artifact(): Promise<string | undefined>;
  /** Whatever the running container has printed so far (stderr), or undefined when there is none. */
  live(): Promise<string | undefined>;
  /** True once the workflow of the run is closed (completed, failed, cancelled, terminated, timed out). */
  closed(): Promise<boolean>;
  sleep(ms: number): Promise<void>;
}

export interface FollowOptions {
  pollMs?: number;
  /** Redaction for lines read from the live container (the artifact is redacted already). */
  redactLine(line: string): string;
  print(line: string): void;
}

/** Prints new lifecycle lines until the run is closed and its artifact (if any) has been read. */
export async function followRunLogs(src: FollowSources, opts: FollowOptions): Promise<{ printed: number }> {
  const printed = new Set<string>();
  const emit = (lines: string[]) => {
    for (const line of lines) {
      const event = (JSON.parse(line) as { event?: string }).event ?? line;
      if (printed.has(event)) continue;
      printed.add(event);
      opts.print(line);
    }
  };
  for (;;) {
    // Read `closed` first: a run seen closed has already landed whatever artifact it will ever have.
    const closed = await src.closed();
    const artifact = await src.artifact();
    if (artifact !== undefined) {
      emit(artifact.split('\n').filter((l) => l.trim() !== ''));
      if (closed) return { printed: printed.size };
    } else {
      const live = await src.live();
      if (live !== undefined) emit(selectLifecycleLines(live, opts.redactLine).lines);
      if (closed) return { printed: printed.size };
    }
    await src.sleep(opts.pollMs ?? 500);
  }
}
