import { describe, expect, it } from 'vitest';
import { parseInterval } from '../../src/cli/commands/drift';
import { type DeployedSnapshot, type PinSnapshot, compareDrift } from '../../src/registry/drift';
import { fixedInputs } from '../../src/build/verify-image';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const R = '127.0.0.1:5000/o/r/x';
const pin: PinSnapshot = {
  ref: 'a/b@1',
  repository: R,
  index: d('a'),
  platforms: { amd64: `${R}@${d('1')}`, arm64: `${R}@${d('2')}` },
};
const deployed = (over: Partial<DeployedSnapshot>): DeployedSnapshot => ({
  ref: 'a/b@1',
  tag: `${R}:dev`,
  tagDigest: null,
  recorded: null,
  ...over,
});

describe('compareDrift', () => {
  it('ok when every observed digest equals the pin', () => {
    const r = compareDrift(
      'main',
      [pin],
      [deployed({ tagDigest: d('a'), recorded: { index: d('a'), platforms: { amd64: `${R}@${d('1')}` } } })],
    );
    expect(r.rows[0]!.status).toBe('ok');
    expect(r.failed).toBe(false);
  });

  it('drift from any source; main fails, dev does not', () => {
    const obs = [deployed({ tagDigest: d('a'), recorded: { index: null, platforms: { arm64: `${R}@${d('9')}` } } })];
    expect(compareDrift('dev', [pin], obs)).toMatchObject({ failed: false, counts: { drift: 1 } });
    const main = compareDrift('main', [pin], obs);
    expect(main.failed).toBe(true);
    expect(main.rows[0]).toMatchObject({ status: 'drift', pinned: d('2'), deployed: d('9') });
  });

  it('undeployed and unpinned fail closed on main only', () => {
    expect(compareDrift('main', [pin], [deployed({})]).rows[0]!.status).toBe('undeployed');
    expect(compareDrift('main', [pin], [deployed({})]).failed).toBe(true);
    expect(compareDrift('staging', [{ ...pin, index: 'latest' }], [deployed({})])).toMatchObject({
      failed: false,
      counts: { unpinned: 1 },
    });
  });
});

describe('parseInterval', () => {
  it('accepts s|m|h|d of at least a minute', () => {
    expect(parseInterval('90s')).toBe(90_000);
    expect(parseInterval('6h')).toBe(21_600_000);
    expect(() => parseInterval('30s')).toThrow(/shortest/);
    expect(() => parseInterval('1w')).toThrow(/unit/);
    expect(() => parseInterval('0m')).toThrow();
  });
});

describe('fixedInputs', () => {
  it('uses examples first, else the minimal instance the schema allows', () => {
    expect(fixedInputs({ examples: [{ text: 'x' }], type: 'object' })).toEqual({ text: 'x' });
    expect(
      fixedInputs({
        type: 'object',
        required: ['model', 'messages'],
        properties: {
          model: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$' },
          messages: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['role', 'content'],
              properties: { role: { enum: ['system', 'user'] }, content: { type: 'string' } },
            },
          },
          optional: { type: 'number' },
        },
      }),
    ).toEqual({ model: 'hello', messages: [{ role: 'system', content: 'hello world' }] });
  });

  it('meets minProperties with the first declared properties when nothing is required (text/stats: text or file)', () => {
    const textOrFile = {
      type: 'object',
      minProperties: 1,
      maxProperties: 1,
      properties: { text: { type: 'string' }, file: { type: 'object', required: ['$world'] } },
    };
    expect(fixedInputs(textOrFile)).toEqual({ text: 'hello world' });
    expect(fixedInputs({ ...textOrFile, minProperties: 0 })).toEqual({});
  });
});
