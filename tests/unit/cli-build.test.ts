// The compiled CLI never runs stale code: bin/build-stamp.js decides from the sources' mtimes and digest, and
// bin/worldloop.js refuses a missing or stale build with ERR_BUILD_STALE (exit 1) in the catalogue's words.
// Everything here runs on a scratch copy, never on this checkout's own dist/ (other tests run it meanwhile).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STAMP_FILE, sourceDigest, sourceFiles, staleReason } from '../../bin/build-stamp.js';
import { ERROR_CATALOGUE } from '../../src/contracts/errors';

const ROOT = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'wl-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let roots = 0;
/** A scratch tree with the layout the stamp looks at, built (stamped) at `builtAt`. */
function scratch(): string {
  const root = join(tmp, `root-${++roots}`);
  for (const dir of ['src/cli', 'activities', 'workflows', 'dist', 'bin'])
    mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(root, 'src/cli/main.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'workflows/index.ts'), 'export const w = 1;\n');
  cpSync(join(ROOT, 'bin/build-stamp.js'), join(root, 'bin/build-stamp.js'));
  cpSync(join(ROOT, 'bin/worldloop.js'), join(root, 'bin/worldloop.js'));
  return root;
}

function stamp(root: string, builtAtMs = Date.now() + 1_000): void {
  const files = sourceFiles(root);
  writeFileSync(
    join(root, STAMP_FILE),
    JSON.stringify({ source_digest: sourceDigest(root, files), files: files.length, built_at_ms: builtAtMs }),
  );
}

describe('the build stamp', () => {
  it('says there is no build when dist/ has no stamp', () => {
    expect(staleReason(scratch())).toMatch(/no build/);
  });

  it('accepts a build made from the current sources', () => {
    const root = scratch();
    stamp(root);
    expect(staleReason(root)).toBeUndefined();
  });

  it('refuses a build once a source changes, is added or removed', () => {
    const changed = scratch();
    stamp(changed, Date.now() - 10_000);
    writeFileSync(join(changed, 'src/cli/main.ts'), 'export const a = 2;\n');
    expect(staleReason(changed)).toMatch(/sources changed/);

    const added = scratch();
    stamp(added);
    writeFileSync(join(added, 'activities/new.ts'), 'export {};\n');
    expect(staleReason(added)).toMatch(/sources changed/);

    const removed = scratch();
    stamp(removed);
    rmSync(join(removed, 'workflows/index.ts'));
    expect(staleReason(removed)).toMatch(/sources changed/);
  });

  it('still accepts a build when a source was only touched (newer mtime, same bytes)', () => {
    const root = scratch();
    stamp(root, Date.now() - 10_000);
    utimesSync(join(root, 'src/cli/main.ts'), new Date(), new Date());
    expect(staleReason(root)).toBeUndefined();
  });
});

describe('bin/worldloop.js on a stale build', () => {
  it.each([false, true])('refuses with ERR_BUILD_STALE and exit 1 (json %s), in the catalogue’s words', (json) => {
    const root = scratch();
    const res = spawnSync(process.execPath, [join(root, 'bin/worldloop.js'), '--help', ...(json ? ['--json'] : [])], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.status).toBe(1);
    const spec = ERROR_CATALOGUE.ERR_BUILD_STALE;
    if (json) {
      const body = JSON.parse(res.stdout) as Record<string, unknown>;
      expect(body).toMatchObject({
        ok: false,
        code: 'ERR_BUILD_STALE',
        explanation: spec.explanation,
        action: spec.action,
      });
    } else {
      expect(res.stderr).toContain('ERR_BUILD_STALE: there is no build');
      expect(res.stderr).toContain(`why: ${spec.explanation}`);
      expect(res.stderr).toContain(spec.action);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
