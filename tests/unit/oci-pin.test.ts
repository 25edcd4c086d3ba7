import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { closureFromDepends } from '../../src/build/base-rootfs';
import { type PinnedState, classify, pinProblems, rewritePins, tagPins } from '../../src/registry/pin';

const R = '127.0.0.1:5000/o/r/text-stats';
const d = (c: string): string => `sha256:${c.repeat(64)}`;

const SOURCE = `# a comment that must survive
ref: text/stats@1 # trailing comment
image:
  repository: ${R}
  platforms: {}
build: { context: ., dockerfile: Dockerfile, entry: main.ts }
inputs:
  required: [text]
  properties:
    text: { type: string }
`;

describe('rewritePins', () => {
  it('turns platforms: {} into a block and adds index, touching nothing else', () => {
    const out = rewritePins(SOURCE, [
      { listIndex: null, want: { amd64: `${R}@${d('a')}`, arm64: `${R}@${d('b')}`, index: d('c') } },
    ]);
    expect(out).toBe(
      SOURCE.replace(
        '  platforms: {}\n',
        `  platforms:\n    amd64: ${R}@${d('a')}\n    arm64: ${R}@${d('b')}\n  index: ${d('c')}\n`,
      ),
    );
  });

  it('replaces only the changed scalar in place', () => {
    const pinned = rewritePins(SOURCE, [
      { listIndex: null, want: { amd64: `${R}@${d('a')}`, arm64: `${R}@${d('b')}`, index: d('c') } },
    ]);
    const out = rewritePins(pinned, [{ listIndex: null, want: { arm64: `${R}@${d('e')}` } }]);
    const changed = out.split('\n').filter((line, i) => line !== pinned.split('\n')[i]);
    expect(changed).toEqual([`    arm64: ${R}@${d('e')}`]);
    expect(rewritePins(out, [])).toBe(out);
  });

  it('edits the right entry of a list file', () => {
    const list = `- ref: a/b@1\n  image:\n    repository: ${R}\n    platforms: {}\n- ref: a/b@2\n  image:\n    repository: ${R}\n    platforms: {}\n`;
    const out = rewritePins(list, [
      { listIndex: 1, want: { amd64: `${R}@${d('a')}`, arm64: `${R}@${d('b')}`, index: d('c') } },
    ]);
    const data = parse(out) as { image: { platforms: Record<string, string>; index?: string } }[];
    expect(data[0]!.image.platforms).toEqual({});
    expect(data[1]!.image).toEqual({
      repository: R,
      platforms: { amd64: `${R}@${d('a')}`, arm64: `${R}@${d('b')}` },
      index: d('c'),
    });
  });
});

describe('classify and tags', () => {
  const state = (platforms: PinnedState['platforms'], index?: string): PinnedState => ({
    ref: 'text/stats@1',
    file: 'registry/text/stats.yaml',
    absFile: '/x',
    listIndex: null,
    repository: R,
    platforms,
    index,
  });

  it('tells ok, stale, missing, tag and foreign apart', () => {
    const s = state({ amd64: `${R}@${d('a')}`, arm64: `${R}:v1` }, d('c'));
    expect(classify(s, 'amd64', d('a'))).toBe('ok');
    expect(classify(s, 'amd64', d('f'))).toBe('stale');
    expect(classify(s, 'arm64', d('b'))).toBe('tag');
    expect(classify(s, 'index', d('c'))).toBe('ok');
    expect(classify(state({}), 'amd64', d('a'))).toBe('missing');
    expect(classify(state({ amd64: `ghcr.io/x/y/z@${d('a')}` }), 'amd64', d('a'))).toBe('foreign');
    expect(tagPins(s)).toEqual(['arm64']);
    expect(tagPins(state({}, 'latest'))).toEqual(['index']);
  });

  it('dev tolerates tags in --check, staging and production do not', () => {
    const finding = {
      ref: 'x/y@1',
      file: 'f',
      field: 'amd64' as const,
      status: 'tag' as const,
      current: `${R}:v1`,
      published: R,
    };
    const reports = [
      {
        ref: 'x/y@1',
        file: 'f',
        repository: R,
        tag: 'v1',
        index: d('c'),
        platforms: {},
        findings: [finding],
        changed: [],
      },
    ];
    expect(pinProblems(reports, 'dev')).toHaveLength(0);
    expect(pinProblems(reports, 'staging')).toHaveLength(1);
    expect(pinProblems(reports, 'production')).toHaveLength(1);
    expect(pinProblems(reports, 'production', false)).toHaveLength(0);
  });
});

describe('closureFromDepends', () => {
  // Shape of `apt-cache depends --recurse` for a foreign architecture, trimmed.
  const OUT = [
    'nodejs:arm64',
    '  Depends: libc6:arm64',
    '  Depends: libnode108:arm64',
    'libnode108:arm64',
    '  Depends: libc6:arm64',
    '  Depends: <node-acorn:arm64>',
    '    node-acorn',
    ' |Depends: libssl3:arm64',
    '  Depends: libssl1:arm64',
    'libc6:arm64',
    '  Depends: <libgcc1>',
    '    libgcc-s1',
    '    libgcc-s1:arm64',
    'node-acorn',
    '  Depends: nodejs',
    '  Depends: dpkg',
    'libgcc-s1:arm64',
    'libgcc-s1',
    'libssl3:arm64',
    'nodejs',
    '  Depends: python3',
    'dpkg',
    '  Depends: tar',
  ].join('\n');

  it('follows the first alternative and providers, maps native names to the target arch, stops at dpkg', () => {
    expect(closureFromDepends(OUT, ['nodejs:arm64'], 'arm64')).toEqual([
      'libc6:arm64',
      'libgcc-s1:arm64',
      'libnode108:arm64',
      'libssl3:arm64',
      'node-acorn',
      'nodejs:arm64',
    ]);
  });
});
