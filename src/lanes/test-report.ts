// The no-tests-collected guard: a vitest JSON report is proof that tests ran only if it counts some, all of
// them passed, and no file failed outside any test (an import or hook error collects zero tests in that file
// and would otherwise pass unnoticed). Pure, so it is unit-tested on hand-made reports.
import { z } from 'zod';

const ReportSchema = z.object({
  numTotalTests: z.number().int().nonnegative(),
  numPassedTests: z.number().int().nonnegative(),
  numFailedTests: z.number().int().nonnegative(),
  testResults: z
    .array(
      z.object({
        name: z.string(),
        status: z.string(),
        assertionResults: z.array(z.object({ status: z.string() })).default([]),
      }),
    )
    .default([]),
});

export interface TestReportVerdict {
  readonly ok: boolean;
  readonly passed: number;
  readonly failed: number;
  readonly problems: readonly string[];
}

export function judgeTestReport(raw: unknown): TestReportVerdict {
  const parsed = ReportSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, passed: 0, failed: 0, problems: ['the report is not a vitest JSON report'] };
  }
  const r = parsed.data;
  const problems: string[] = [];
  if (r.numTotalTests === 0 || r.testResults.length === 0) problems.push('vitest collected no tests');
  else if (r.numPassedTests === 0) problems.push('no test passed');
  if (r.numFailedTests > 0) problems.push(`${r.numFailedTests} test(s) failed`);
  const empty = r.testResults.filter((f) => f.assertionResults.length === 0).map((f) => f.name);
  const broken = r.testResults
    .filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed'))
    .map((f) => f.name);
  if (broken.length > 0) problems.push(`failed outside any test (import or hook error): ${broken.join(', ')}`);
  const silent = empty.filter((f) => !broken.includes(f));
  if (silent.length > 0) problems.push(`collected no tests: ${silent.join(', ')}`);
  return { ok: problems.length === 0, passed: r.numPassedTests, failed: r.numFailedTests, problems };
}
