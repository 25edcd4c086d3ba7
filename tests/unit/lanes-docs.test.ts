// The fast lane's docs check and no-tests-collected guard, on the real program and catalogue and on
// hand-made inputs that must fail.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main';
import { REPO_ROOT } from '../../src/config';
import { ERROR_CATALOGUE, type ErrorSpec } from '../../src/contracts/errors';
import { cliReference, commandsOf, documentationGaps, errorsReference } from '../../src/lanes/reference-docs';
import { judgeTestReport } from '../../src/lanes/test-report';

const facts = { repoRoot: REPO_ROOT, userName: 'someone' };
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('generated reference docs', () => {
  it('name every command and every error code, (the committed files are compared by npm run docs:check)', async () => {
    const program = await buildProgram();
    const cli = cliReference(program, facts);
    for (const { name } of commandsOf(program)) expect(cli.text).toContain(`## worldloop ${name}\n`);
    const errors = errorsReference(ERROR_CATALOGUE);
    for (const code of Object.keys(ERROR_CATALOGUE)) expect(errors.text).toContain(`## ${code}\n`);
  });

  it('write no machine path into the CLI reference', () => {
    const program = new Command('worldloop');
    program
      .command('x')
      .description('x')
      .option('--dir <d>', 'a folder', join(REPO_ROOT, 'deployments'))
      .option('--by <n>', 'who', 'someone');
    const text = cliReference(program, facts).text;
    expect(text).toContain('`<repo>/deployments`');
    expect(text).toContain('`<login name>`');
    expect(text).not.toContain(REPO_ROOT);
  });

  it('find no gap in the real program, catalogue and README', async () => {
    expect(documentationGaps(await buildProgram(), ERROR_CATALOGUE, readme)).toEqual([]);
  });

  it('report a command missing from the README, one without a description, and a code without an action', () => {
    const program = new Command('worldloop');
    program.command('run').description('runs');
    program.command('frobnicate');
    const catalogue: Record<string, ErrorSpec> = {
      ERR_X: { kind: 'input', retryable: false, explanation: 'x', action: 'do something' },
    };
    const gaps = documentationGaps(program, catalogue, '## Commands\n\n```\nworldloop run <ref>\n```\n');
    expect(gaps).toEqual([
      'command "worldloop frobnicate" has no description',
      'ERR_X: its action does not start with "To fix:"',
      'README.md\'s command list does not name "worldloop frobnicate"',
    ]);
  });
});

describe('no-tests-collected guard', () => {
  const file = (name: string, statuses: string[], status = 'passed') => ({
    name,
    status,
    assertionResults: statuses.map((s) => ({ status: s })),
  });
  const report = (files: ReturnType<typeof file>[]) => {
    const all = files.flatMap((f) => f.assertionResults);
    return {
      numTotalTests: all.length,
      numPassedTests: all.filter((a) => a.status === 'passed').length,
      numFailedTests: all.filter((a) => a.status === 'failed').length,
      testResults: files,
    };
  };

  it('passes a report with passing tests', () => {
    expect(judgeTestReport(report([file('a.test.ts', ['passed', 'passed'])]))).toMatchObject({ ok: true, passed: 2 });
  });

  it('fails when vitest collected nothing', () => {
    expect(judgeTestReport(report([])).problems).toEqual(['vitest collected no tests']);
  });

  it('fails on a file that broke on import (no test in it failed) and on a file with no tests', () => {
    const verdict = judgeTestReport(
      report([file('a.test.ts', ['passed']), file('broken.test.ts', [], 'failed'), file('empty.test.ts', [])]),
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toEqual([
      'failed outside any test (import or hook error): broken.test.ts',
      'collected no tests: empty.test.ts',
    ]);
  });

  it('fails on failed tests and on something that is not a report', () => {
    expect(judgeTestReport(report([file('a.test.ts', ['passed', 'failed'], 'failed')])).problems).toEqual([
      '1 test(s) failed',
    ]);
    expect(judgeTestReport({ hello: 1 }).ok).toBe(false);
  });
});
