// A bounded tail of a container's stderr. A processor may print gigabytes; the adapter keeps only what an
// error message needs (the last lines), so memory stays constant however long the run.
import { Writable } from 'node:stream';

export const TAIL_MAX_BYTES = 4096;
export const TAIL_MAX_LINES = 40;

export class LogTail {
  #chunks: Buffer[] = [];
  #held = 0;
  #total = 0;
  readonly #maxBytes: number;
  readonly #maxLines: number;

  constructor(maxBytes = TAIL_MAX_BYTES, maxLines = TAIL_MAX_LINES) {
    this.#maxBytes = maxBytes;
    this.#maxLines = maxLines;
  }

  /** Bytes seen in total, including those no longer held. */
  get totalBytes(): number {
    return this.#total;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    this.#chunks.push(chunk);
    this.#held += chunk.length;
    // Compact only when well past the bound, so a stream of tiny chunks does not copy on every write.
    if (this.#held > 2 * this.#maxBytes) {
      const all = Buffer.concat(this.#chunks);
      const kept = all.subarray(all.length - this.#maxBytes);
      this.#chunks = [Buffer.from(kept)];
      this.#held = kept.length;
    }
  }

  /** A Writable that feeds this tail, for docker's demultiplexer. */
  sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.push(chunk);
        done();
      },
    });
  }

  /** The last lines (at most maxLines, at most maxBytes), with a marker when earlier output was dropped. */
  text(): string {
    const all = Buffer.concat(this.#chunks);
    let bytes = all.length > this.#maxBytes ? all.subarray(all.length - this.#maxBytes) : all;
    let cut = this.#total > bytes.length;
    // Do not start in the middle of a multi-byte UTF-8 character.
    while (cut && bytes.length > 0 && (bytes[0]! & 0xc0) === 0x80) bytes = bytes.subarray(1);
    let lines = bytes.toString('utf8').replace(/\n+$/, '').split('\n');
    if (cut && lines.length > 1) lines = lines.slice(1); // the first line is probably partial
    if (lines.length > this.#maxLines) {
      lines = lines.slice(lines.length - this.#maxLines);
      cut = true;
    }
    const body = lines.join('\n');
    return cut ? `[… ${this.#total - Buffer.byteLength(body)} earlier bytes omitted]\n${body}` : body;
  }
}

/**
 * Splits a buffer in Docker's multiplexed log format (8-byte header: stream type, 3 zero bytes, big-endian
 * length) and hands each stderr frame to `onStderr`. A truncated last frame is passed on as far as it goes.
 */
export function demuxBuffer(buf: Buffer, onStderr: (chunk: Buffer) => void): void {
  let at = 0;
  while (at + 8 <= buf.length) {
    const type = buf[at]!;
    const length = buf.readUInt32BE(at + 4);
    const frame = buf.subarray(at + 8, Math.min(buf.length, at + 8 + length));
    if (type === 2) onStderr(frame);
    at += 8 + length;
  }
}
