// npm run lane:tests-guard [report.json] — the fast lane's no-tests-collected guard over vitest's JSON report
// (default .lanes/unit-report.json, written by `npm run lane:unit`). Exit 1 with the reasons, or 0 and the count.
import { readFileSync } from 'node:fs';
import { judgeTestReport } from '../../src/lanes/test-report';

const file = process.argv[2] ?? '.lanes/unit-report.json';
let raw: unknown;
try {
  raw = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`tests guard: ${file} cannot be read as JSON (${(error as Error).message}): no proof any test ran`);
  process.exit(1);
}
const verdict = judgeTestReport(raw);
if (!verdict.ok) {
  console.error(`tests guard: FAIL (${file})\n${verdict.problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`tests guard: ${verdict.passed} passed, ${verdict.failed} failed`);
