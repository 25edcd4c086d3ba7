// npm run docs:reference — (re)writes docs/reference/{cli,errors}.md from the CLI and the error catalogue.
// npm run docs:check     — the fast lane's docs check: fails (exit 1) when a file is stale or something is
//                          undocumented, and names what; writes nothing.
import { readFileSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/config';
import { ERROR_CATALOGUE } from '../../src/contracts/errors';
import { buildProgram } from '../../src/cli/main';
import { cliReference, documentationGaps, errorsReference } from '../../src/lanes/reference-docs';
import { writeFileAtomic } from '../../src/write-file-atomic';

const check = process.argv.includes('--check');
const dir = join(REPO_ROOT, 'docs', 'reference');
const program = await buildProgram();
const docs = [
  cliReference(program, { repoRoot: REPO_ROOT, userName: userInfo().username }),
  errorsReference(ERROR_CATALOGUE),
];
const problems = documentationGaps(program, ERROR_CATALOGUE, readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

for (const doc of docs) {
  const file = join(dir, doc.file);
  if (read(file) === doc.text) continue;
  if (check) problems.push(`docs/reference/${doc.file} is not current: run \`npm run docs:reference\` and commit it`);
  else {
    mkdirSync(dir, { recursive: true });
    await writeFileAtomic(file, doc.text);
    console.log(`wrote docs/reference/${doc.file}`);
  }
}
if (problems.length > 0) {
  console.error(`docs check: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exitCode = 1;
} else
  console.log(`docs check: ${docs.map((d) => d.file).join(', ')} current; every command and error code documented`);
