// vitest global setup: tests that spawn bin/worldloop.js run the compiled CLI, so build it first when the
// sources changed since the last build (a no-op otherwise; scripts/build.mjs decides).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
