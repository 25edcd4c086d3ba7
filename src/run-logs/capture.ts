// The adapter-side half of run logs: a sink for a container's stderr that keeps the lifecycle lines as
// they stream past — in constant memory, however much the processor prints — and writes them to the
// execution's workdir, where Execute's keepRunLogs picks them up (STDERR_CAPTURE_FILE).
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { MAX_LINE_BYTES, MAX_LINES, selectLifecycleLines } from './lifecycle-lines';
import { writeFileAtomic } from '../write-file-atomic';

/**
 * Where the adapter leaves the lifecycle lines it captured from the container's whole stderr, in the
 * execution's workdir (stable across retries). Without it, Execute uses the adapter's bounded stderr tail.
 */
export const STDERR_CAPTURE_FILE = 'stderr-lifecycle.jsonl';

/** Marks lines the capture could not keep, so the kept log notes the truncation. */
export function droppedMarker(lines: number): string {
  return `[… ${lines} lines dropped by the capture]`;
}

export class LifecycleCapture {
  #partial: Buffer[] = [];
  #partialBytes = 0;
  /** The current line is longer than any lifecycle line: drop it up to its newline. */
  #skipping = false;
  #lines: string[] = [];
  #seen = new Set<string>();
  #dropped = 0;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(0x0a, at);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.#skipping) {
        this.#partial.push(chunk.subarray(at, end));
        this.#partialBytes += end - at;
        if (this.#partialBytes > MAX_LINE_BYTES) {
          this.#partial = [];
          this.#partialBytes = 0;
          this.#skipping = true;
          this.#dropped++;
        }
      }
      if (nl === -1) return;
      if (!this.#skipping) this.#take(Buffer.concat(this.#partial).toString('utf8'));
      this.#partial = [];
      this.#partialBytes = 0;
      this.#skipping = false;
      at = nl + 1;
    }
  }

  #take(line: string): void {
    const [kept] = selectLifecycleLines(line, (l) => l).lines;
    if (kept === undefined) return;
    const event = (JSON.parse(kept) as { event: string }).event;
    if (this.#seen.has(event)) return;
    if (this.#lines.length >= MAX_LINES) {
      this.#dropped++;
      return;
    }
    this.#seen.add(event);
    this.#lines.push(kept);
  }

  /** The lifecycle lines seen so far (a last line without a newline counts once the stream ends). */
  lines(): string[] {
    if (this.#partialBytes > 0 && !this.#skipping) {
      this.#take(Buffer.concat(this.#partial).toString('utf8'));
      this.#partial = [];
      this.#partialBytes = 0;
    }
    return [...this.#lines];
  }

  /** Lines longer than a lifecycle line can be, or beyond the line budget. */
  get dropped(): number {
    return this.#dropped;
  }

  /** A Writable feeding this capture, for docker's demultiplexer. */
  sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.push(chunk);
        done();
      },
    });
  }

  /** Writes the lines to `<workdir>/stderr-lifecycle.jsonl` atomically (a retry may write it again). */
  async save(workdir: string): Promise<void> {
    const path = join(workdir, STDERR_CAPTURE_FILE);
    const lines = this.lines();
    if (this.#dropped > 0) lines.push(droppedMarker(this.#dropped));
    await writeFileAtomic(path, lines.map((l) => `${l}\n`).join(''), { mode: 0o644 });
  }
}
