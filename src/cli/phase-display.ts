// The live phase line of `worldloop run`: `admit ✓  reserve ✓  execute …  1.2s`. On a terminal it
// redraws one line; elsewhere (CI logs, pipes) it prints a line only when a phase changes.
import type { PhaseState } from '../../activities';
import type { Envelope } from '../contracts/schemas';

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

/**
 * The final phase line of a successful run, read off its envelope: asking the closed workflow instead costs the
 * worker a replay of its whole history. A failure's phase is only in the workflow, so that is still asked.
 */
export function finalPhases(envelope: Envelope): PhaseState | undefined {
  if (envelope.status !== 'success') return undefined;
  const completed: PhaseState['completed'] = envelope.meta.cache_hit
    ? ['admit', 'settle', 'recheck']
    : ['admit', 'reserve', 'execute', 'settle', 'recheck'];
  return { phase: 'done', completed, cache_hit: envelope.meta.cache_hit };
}

const withoutElapsed = (line: string) => line.replace(/\s+[\d.]+s$/, '');

/**
 * Shows the phases on stderr until `stop` settles, polling `query` (which answers undefined while the
 * workflow has not run its first task), then draws the final state once more: the one `stop` resolves with,
 * else the workflow's answer.
 */
export async function watchPhases(
  query: () => Promise<PhaseState | undefined>,
  stop: Promise<PhaseState | undefined>,
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
  state = (await stop) ?? (await query()) ?? state;
  draw(true);
}
