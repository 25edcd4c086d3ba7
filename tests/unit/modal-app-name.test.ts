// The Modal app naming rule (docs/architecture.md §8, src/adapters/modal/app-name.ts): examples, refusals, and
// properties over arbitrary users, branches and refs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MODAL_APP_NAME_MAX,
  fullAppName,
  modalAppName,
  sanitiseSegment,
  type AppOwner,
} from '../../src/adapters/modal/app-name';
import { expectCode } from './helpers/expect-code';

const CI: AppOwner = { ci: true };
const person = (user: string, branch: string): AppOwner => ({ ci: false, user, branch });
const VALID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

describe('modalAppName', () => {
  it('names CI apps <ns>-<name>-v<major>', () => {
    expect(modalAppName('text/stats@1', CI)).toBe('text-stats-v1');
    expect(modalAppName('llm/chat@12', CI)).toBe('llm-chat-v12');
  });

  it('names people’s apps <user>-<branch>-<ns>-<name>-v<major>, lower-cased, [a-z0-9-] only', () => {
    expect(modalAppName('text/stats@1', person('alice', 'main'))).toBe('alice-main-text-stats-v1');
    expect(modalAppName('text/stats@1', person('Alice.Smith', 'feature/Fix_Bug--2'))).toBe(
      'alice-smith-feature-fix-bug-2-text-stats-v1',
    );
    expect(modalAppName('text/stats@1', person('--bob--', '/wip/'))).toBe('bob-wip-text-stats-v1');
    expect(modalAppName('text/stats@1', person('Zoë', 'ünïcode'))).toBe('zo-n-code-text-stats-v1');
  });

  it('keeps a name of exactly 64 characters and truncates one of 65 to 55 + "-" + 8 hex digits', () => {
    const branch64 = 'b'.repeat(64 - 'u--text-stats-v1'.length);
    const exact = modalAppName('text/stats@1', person('u', branch64));
    expect(exact).toHaveLength(64);
    expect(exact).toBe(fullAppName('text/stats@1', person('u', branch64)));

    const long = modalAppName('text/stats@1', person('u', `${branch64}b`));
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^u-b{49}-tex-[0-9a-f]{8}$/);
  });

  it('drops a "-" left at the cut before the hash, so no "--" appears', () => {
    // 54 characters then a "-" at position 55: the kept part must not end in "-".
    const user = 'a'.repeat(54);
    const name = modalAppName('text/stats@1', person(user, 'branch-name-long-enough'));
    expect(name).toMatch(/^a{54}-[0-9a-f]{8}$/);
    expect(name).toMatch(VALID);
  });

  it('is deterministic and keeps long names that share a prefix apart', () => {
    const a = modalAppName('text/stats@1', person('alice', `${'x'.repeat(60)}-one`));
    const b = modalAppName('text/stats@1', person('alice', `${'x'.repeat(60)}-two`));
    expect(a).toBe(modalAppName('text/stats@1', person('alice', `${'x'.repeat(60)}-one`)));
    expect(a).not.toBe(b);
    expect(a.slice(0, 55)).toBe(b.slice(0, 55));
  });

  it('refuses a malformed ref or a user/branch with nothing usable (ERR_MODAL_APP_NAME)', () => {
    expect(expectCode('ERR_MODAL_APP_NAME', () => modalAppName('text/stats', CI))).toMatch(/ns\/name@major/);
    expectCode('ERR_MODAL_APP_NAME', () => modalAppName('Text/stats@1', CI));
    expectCode('ERR_MODAL_APP_NAME', () => modalAppName('text/stats@0', CI));
    expect(expectCode('ERR_MODAL_APP_NAME', () => modalAppName('text/stats@1', person('---', 'main')))).toMatch(
      /^user/,
    );
    expect(expectCode('ERR_MODAL_APP_NAME', () => modalAppName('text/stats@1', person('alice', '')))).toMatch(
      /^branch/,
    );
    expectCode('ERR_MODAL_APP_NAME', () => modalAppName('text/stats@1', person('ÉÉ', '__')));
  });
});

describe('modalAppName properties', () => {
  const segmentText = fc.string({ unit: 'grapheme-ascii', maxLength: 80 });
  const refPart = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,40}$/);
  const ref = fc.tuple(refPart, refPart, fc.integer({ min: 1, max: 99_999 })).map(([ns, n, m]) => `${ns}/${n}@${m}`);
  const owner: fc.Arbitrary<AppOwner> = fc.oneof(
    fc.constant(CI),
    fc.tuple(segmentText, segmentText).map(([user, branch]) => person(user, branch)),
  );
  const usable = (o: AppOwner): boolean => o.ci || (sanitiseSegment(o.user) !== '' && sanitiseSegment(o.branch) !== '');

  it('always gives a valid name of at most 64 characters, or ERR_MODAL_APP_NAME for an unusable owner', () => {
    fc.assert(
      fc.property(ref, owner, (r, o) => {
        if (!usable(o)) {
          expectCode('ERR_MODAL_APP_NAME', () => modalAppName(r, o));
          return;
        }
        const name = modalAppName(r, o);
        expect(name.length).toBeLessThanOrEqual(MODAL_APP_NAME_MAX);
        expect(name).toMatch(VALID);
        expect(modalAppName(r, o)).toBe(name);
        const full = fullAppName(r, o);
        if (full.length <= MODAL_APP_NAME_MAX) expect(name).toBe(full);
        else expect(name.slice(0, -9)).toBe(full.slice(0, name.length - 9));
      }),
      { numRuns: 2000 },
    );
  });

  it('never gives two different full names the same app name', () => {
    const pair = fc.tuple(ref, owner, ref, owner).filter(([, o1, , o2]) => usable(o1) && usable(o2));
    fc.assert(
      fc.property(pair, ([r1, o1, r2, o2]) => {
        const same = fullAppName(r1, o1) === fullAppName(r2, o2);
        expect(modalAppName(r1, o1) === modalAppName(r2, o2)).toBe(same);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps long names apart when they differ only after the cut', () => {
    const tailText = fc.stringMatching(/^[a-z0-9]{1,20}$/);
    fc.assert(
      fc.property(tailText, tailText, (t1, t2) => {
        fc.pre(t1 !== t2);
        const base = 'p'.repeat(70);
        const n1 = modalAppName('text/stats@1', person('u', `${base}-${t1}`));
        const n2 = modalAppName('text/stats@1', person('u', `${base}-${t2}`));
        expect(n1).toHaveLength(64);
        expect(n1).not.toBe(n2);
      }),
      { numRuns: 1000 },
    );
  });
});
