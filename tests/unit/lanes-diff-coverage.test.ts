// The fast lane's diff-coverage gate (scripts/lanes/diff-coverage.sh: Cobertura XML + PyPI diff-cover,
// --fail-under 90) on a scratch repository: a change whose lines the report marks as run passes, the same
// change marked as not run fails, and a missing report fails before diff-cover is asked.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';

const repo = mkdtempSync(join(tmpdir(), 'wl-diff-cover-'));
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: repo,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  });
let base = '';

function cobertura(hits: number): string {
  const lines = [1, 2, 3, 4, 5].map((n) => `<line number="${n}" hits="${n <= 2 ? 1 : hits}"/>`).join('');
  return `<?xml version="1.0" ?><coverage line-rate="0.5" branch-rate="0" version="1" timestamp="0"><sources><source>${repo}</source></sources><packages><package name="src" line-rate="0.5" branch-rate="0"><classes><class name="a.ts" filename="src/a.ts" line-rate="0.5" branch-rate="0"><methods/><lines>${lines}</lines></class></classes></package></packages></coverage>`;
}

function gate(report: string) {
  return spawnSync('bash', [join(REPO_ROOT, 'scripts/lanes/diff-coverage.sh')], {
    env: { ...process.env, LANE_REPO: repo, LANE_BASE: base, LANE_COVERAGE: report },
    encoding: 'utf8',
    timeout: 110_000,
  });
}

beforeAll(() => {
  mkdirSync(join(repo, 'src'));
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(repo, 'src/a.ts'), 'export const a = 1;\nexport const b = 2;\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'base');
  base = git('rev-parse', 'HEAD').toString().trim();
  writeFileSync(
    join(repo, 'src/a.ts'),
    'export const a = 1;\nexport const b = 2;\nexport const c = 3;\nexport const d = 4;\nexport const e = 5;\n',
  );
  git('commit', '--quiet', '-am', 'change');
});

describe('diff-coverage gate', () => {
  it('passes when the changed lines ran', () => {
    writeFileSync(join(repo, 'covered.xml'), cobertura(3));
    const r = gate(join(repo, 'covered.xml'));
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Coverage: 100%/);
  });

  it('fails under 90% when the changed lines did not run', () => {
    writeFileSync(join(repo, 'uncovered.xml'), cobertura(0));
    const r = gate(join(repo, 'uncovered.xml'));
    expect(r.status, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout).toMatch(/Coverage: 0%/);
    expect(r.stdout + r.stderr).toMatch(/Failure\. Coverage is below 90%/);
  });

  it('fails without a report', () => {
    const r = gate(join(repo, 'absent.xml'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is missing');
  });
});
