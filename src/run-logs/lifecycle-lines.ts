// The pure heart of run logs: from whatever stderr text the adapter kept, the processor's lifecycle
// lines only (docs/architecture.md §9) — each event at most once, redacted again with the worker's redactor, and
// bounded, with a closing note whenever something was cut. A processor can print gigabytes; an artifact
// that mirrors them would be a way to fill the world, so everything but lifecycle JSON is dropped here.
import { isLifecycleEvent } from '../log';

/** A lifecycle line longer than this is not a line the kit writes (its records are small): it is dropped. */
export const MAX_LINE_BYTES = 16 * 1024;
/** The artifact's budget; the kit's nine events fit many times over. */
export const MAX_LINES = 64;
export const MAX_BYTES = 64 * 1024;

/** The adapter's stderr tail starts with this marker when earlier output no longer fits in it. */
export const TAIL_OMISSION = /^\[… (\d+) earlier bytes omitted\]$/;
/** The capture's mark for lines it could not keep (see capture.ts droppedMarker). */
const CAPTURE_DROPPED = /^\[… (\d+) lines dropped by the capture\]$/;

export interface SelectedLines {
  /** JSON lines without the trailing newline, in the order the processor wrote them. */
  lines: string[];
  /** The closing note line, present only when something that could matter was cut. */
  note: string | undefined;
  counts: { other_lines: number; duplicates: number; oversized: number; over_budget: number };
}

export function selectLifecycleLines(
  text: string,
  redactLine: (line: string) => string,
  limits: { maxLines?: number; maxBytes?: number } = {},
): SelectedLines {
  const maxLines = limits.maxLines ?? MAX_LINES;
  const maxBytes = limits.maxBytes ?? MAX_BYTES;
  const seen = new Set<string>();
  const lines: string[] = [];
  const counts = { other_lines: 0, duplicates: 0, oversized: 0, over_budget: 0 };
  let bytes = 0;
  let omittedBytes = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const omission = TAIL_OMISSION.exec(line);
    if (omission) {
      omittedBytes += Number(omission[1]);
      continue;
    }
    const dropped = CAPTURE_DROPPED.exec(line);
    if (dropped) {
      counts.oversized += Number(dropped[1]);
      continue;
    }
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
      counts.oversized++;
      continue;
    }
    const event = eventOf(line);
    if (event === undefined) {
      counts.other_lines++;
      continue;
    }
    // Exactly once per run: an adopted container's log is read again from its start on a retry.
    if (seen.has(event)) {
      counts.duplicates++;
      continue;
    }
    seen.add(event);
    const redacted = redactLine(line);
    const size = Buffer.byteLength(redacted) + 1;
    if (lines.length >= maxLines || bytes + size > maxBytes) {
      counts.over_budget++;
      continue;
    }
    lines.push(redacted);
    bytes += size;
  }
  const cut = omittedBytes > 0 || counts.oversized > 0 || counts.over_budget > 0;
  const note = cut
    ? JSON.stringify({
        event: 'logs.truncated',
        stderr_bytes_not_seen: omittedBytes,
        oversized_lines: counts.oversized,
        lines_over_budget: counts.over_budget,
      })
    : undefined;
  return { lines, note, counts };
}

function eventOf(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const record: unknown = JSON.parse(line);
    const event = typeof record === 'object' && record !== null ? (record as { event?: unknown }).event : undefined;
    return isLifecycleEvent(event) ? event : undefined;
  } catch {
    return undefined;
  }
}
