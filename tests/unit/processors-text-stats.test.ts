// text/stats@1: the counting rules its README documents, pinned by hand-checked cases.
import { blake3 } from '@noble/hashes/blake3.js';
import { describe, expect, it } from 'vitest';
import { computeStats, makeRunner } from '../../processors/text/stats/1/src/stats';
import type { RunnerConfig } from '../../src/processor-kit/types';

const b3 = (s: string): string => Buffer.from(blake3(Buffer.from(s, 'utf8'))).toString('hex');

describe('computeStats', () => {
  it.each([
    ['', { bytes: 0, characters: 0, words: 0, lines: 0 }],
    ['hello world', { bytes: 11, characters: 11, words: 2, lines: 1 }],
    ['hello world\n', { bytes: 12, characters: 12, words: 2, lines: 1 }],
    ['a\nb', { bytes: 3, characters: 3, words: 2, lines: 2 }],
    ['a\r\nb\r\n', { bytes: 6, characters: 6, words: 2, lines: 2 }],
    ['\n\n', { bytes: 2, characters: 2, words: 0, lines: 2 }],
    ['  spaced\t\tout  ', { bytes: 15, characters: 15, words: 2, lines: 1 }],
    // é precomposed (2 bytes), 😀 (4 bytes, 2 UTF-16 units, 1 code point), no-break space separates words.
    ['é 😀\u00a0x', { bytes: 10, characters: 5, words: 3, lines: 1 }],
    // A combining accent is its own code point.
    ['e\u0301', { bytes: 3, characters: 2, words: 1, lines: 1 }],
  ])('%j', (text, expected) => {
    expect(computeStats(text)).toEqual({ ...expected, blake3: b3(text) });
  });
});

describe('text/stats runner', () => {
  it('writes one stats.json with fixed key order, zero cost and no secrets', async () => {
    const config = { mode: 'mock', secrets: {}, settings: {} } as unknown as RunnerConfig;
    const result = await makeRunner(config)({ text: 'one two\nthree' });
    expect(result.cost_micro).toBe(0);
    expect(result.outputs).toHaveLength(1);
    const out = result.outputs[0]!;
    expect(out.relpath).toBe('outputs/stats.json');
    expect(out.mime).toBe('application/json');
    expect(out.bytes).toBe(
      `{\n  "schema": "worldloop.text-stats/v1",\n  "bytes": 13,\n  "characters": 13,\n  "words": 3,\n  "lines": 2,\n  "blake3": "${b3('one two\nthree')}"\n}\n`,
    );
    // Mode does not matter to a deterministic processor.
    const real = await makeRunner({ ...config, mode: 'real' })({ text: 'one two\nthree' });
    expect(real.outputs[0]!.bytes).toBe(out.bytes);
  });
});
