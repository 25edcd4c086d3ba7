// text/stats@1: deterministic counts over a text — given inline, or as a world artifact whose bytes the kit
// hands over as a verified local file (so a run can count another run's output). No provider, no network,
// no secrets; cost is zero.
import { readFile } from 'node:fs/promises';
import { blake3Hex } from '../../../../../src/hashing/blake3';
import type { ArtifactInput, ProcessorResult, RunnerConfig } from '../../../../../src/processor-kit';

/** Exactly one of the two (the registry schema says so). */
export type TextStatsInputs = { readonly text: string } | { readonly file: ArtifactInput };

/** The text to count: inline, or the artifact's bytes read as UTF-8 (invalid sequences count as U+FFFD). */
export async function textOf(inputs: TextStatsInputs): Promise<string> {
  if ('text' in inputs) return inputs.text;
  return new TextDecoder('utf-8').decode(await readFile(inputs.file.path));
}

export interface TextStats {
  /** UTF-8 bytes. */
  readonly bytes: number;
  /** Unicode code points (not UTF-16 units, not grapheme clusters). */
  readonly characters: number;
  /** Maximal runs of non-whitespace (Unicode White_Space). */
  readonly words: number;
  /** Editor-style: 0 for "", otherwise the line feeds plus one unless the text ends with a line feed. */
  readonly lines: number;
  /** BLAKE3 of the UTF-8 text, hex. */
  readonly blake3: string;
}

export const STATS_SCHEMA = 'worldloop.text-stats/v1';

export function computeStats(text: string): TextStats {
  const bytes = new TextEncoder().encode(text);
  let characters = 0;
  for (const _ of text) characters++;
  const words = text.split(/\s+/u).filter((w) => w !== '').length;
  const feeds = text.split('\n').length - 1;
  const lines = text === '' ? 0 : feeds + (text.endsWith('\n') ? 0 : 1);
  return { bytes: bytes.byteLength, characters, words, lines, blake3: blake3Hex(bytes) };
}

export function makeRunner(_config: RunnerConfig): (inputs: TextStatsInputs) => Promise<ProcessorResult> {
  return async (inputs) => {
    const stats = computeStats(await textOf(inputs));
    // Fixed key order and a trailing newline: the same text gives the same bytes, on every platform.
    const body = `${JSON.stringify({ schema: STATS_SCHEMA, ...stats }, null, 2)}\n`;
    return {
      outputs: [{ relpath: 'outputs/stats.json', bytes: body, mime: 'application/json' }],
      usage: { input_bytes: stats.bytes },
      cost_micro: 0,
      processor_info: { provider: 'local' },
    };
  };
}
