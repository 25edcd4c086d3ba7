// The cross-architecture check behind `worldloop build --verify`: the deterministic text/stats@1 image,
// run in mock mode with the adapter's hardening on amd64 (natively) and arm64 (Docker + qemu-user-static
// through binfmt_misc), writes byte-identical outputs.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { buildAndPush } from '../../src/registry/build-push';
import { OciClient } from '../../src/registry/oci-client';
import { verifyBuilds } from '../../src/registry/verify-image';
import { integrationEnv } from './env';

// binfmt_misc is a kernel feature some container hosts do not expose; without it no arm64 binary can run.
const binfmt = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
const arm64Runs = process.arch === 'arm64' || (existsSync(binfmt) && /^enabled/.test(readFileSync(binfmt, 'utf8')));

describe('build --verify', () => {
  it.skipIf(!arm64Runs)(
    'text/stats@1 gives byte-identical outputs on amd64 and arm64 (skipped only when binfmt_misc has no qemu-aarch64)',
    async () => {
      // A temp registry folder pointing at a test repository, so the real v1 tags are left alone.
      const registryDir = join(mkdtempSync(join(tmpdir(), 'oci-verify-')), 'registry');
      mkdirSync(join(registryDir, 'text'), { recursive: true });
      const doc = parseDocument(readFileSync(join(REPO_ROOT, 'registry/text/stats.yaml'), 'utf8'));
      doc.setIn(
        ['image', 'repository'],
        `${integrationEnv().registryHost}/worldloop-test/v${randomBytes(4).toString('hex')}/text-stats`,
      );
      doc.setIn(['image', 'platforms'], doc.createNode({}));
      doc.deleteIn(['image', 'index']);
      writeFileSync(join(registryDir, 'text', 'stats.yaml'), doc.toString({ lineWidth: 0 }));
      const reports = await buildAndPush({
        registryDir,
        root: REPO_ROOT,
        client: new OciClient(),
        refs: ['text/stats@1'],
      });
      const [result] = await verifyBuilds({ reports, registryDir, root: REPO_ROOT });
      console.log(
        `[verify] ${result!.runs.map((r) => `${r.platform} ${r.runner} ${r.duration_ms} ms`).join(', ')}: ${result!.detail}`,
      );
      expect(result!.deterministic).toBe(true);
      expect(result!.runs.map((r) => r.platform)).toEqual(['amd64', 'arm64']);
      expect(Object.keys(result!.runs[0]!.files)).toEqual(['outputs.json', join('outputs', 'stats.json')]);
      expect(result!.runs[1]!.files).toEqual(result!.runs[0]!.files);
      expect(result!.identical).toBe(true);
    },
  );
});
