// The live phase line of `worldloop run`: `admit ✓  reserve ✓  execute …  1.2s`. On a terminal it
// redraws one line; elsewhere (CI logs, pipes) it prints a line only when a phase changes.
import type { PhaseState } from '../../activities';

const PHASE_LABELS = ['admit', 'reserve', 'execute', 'settle', 'recheck'] as const;

/** Pure: the phase line for a state and the time since the run started. */
export function renderPhases(state: PhaseState | undefined, elapsedMs: number): string {
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

const withoutElapsed = (line: string) => line.replace(/\s+[\d.]+s$/, '');

/**
 * Shows the phases on stderr until `stop` settles, polling `query` (which answers undefined while the
 * workflow has not run its first task), then draws the final state once more.
 */
export async function watchPhases(
  query: () => Promise<PhaseState | undefined>,
  stop: Promise<unknown>,
  out: NodeJS.WriteStream = process.stderr,
): Promise<void> {
  const tty = out.isTTY === true;
  const started = performance.now();
  let finished = false;
  void stop.finally(() => {
    finished = true;
  });
  let last = '';
  let state: PhaseState | undefined;
  const draw = (final: boolean) => {
    const line = renderPhases(state, performance.now() - started);
    if (tty) out.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else if (withoutElapsed(line) !== withoutElapsed(last)) out.write(`${line}\n`);
    last = line;
  };
  while (!finished) {
    state = (await query()) ?? state;
    draw(false);
    await Promise.race([stop, new Promise((r) => setTimeout(r, 150))]);
  }
  // Closed workflows answer queries from their history; an old server may not.
  state = (await query()) ?? state;
  draw(true);
}
