// The cross-architecture check behind `worldloop build --verify`: the deterministic text/stats@1 image,
// run in mock mode with the adapter's hardening on amd64 (natively) and arm64 (Docker + qemu-user-static
// through binfmt_misc), writes byte-identical outputs.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { adapterRunner } from '../../src/cli/commands/build';
import { REPO_ROOT, config } from '../../src/config';
import { buildAndPush } from '../../src/build/build-push';
import { OciClient } from '../../src/oci/client';
import { verifyBuilds } from '../../src/build/verify-image';
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
      // Through the loop's local adapter (what Execute runs), then through plain `docker run` with the
      // same flags: both architectures and both runners must agree byte for byte.
      const [result] = await verifyBuilds({ reports, registryDir, root: REPO_ROOT, runImage: adapterRunner(config()) });
      const [plain] = await verifyBuilds({ reports, registryDir, root: REPO_ROOT });
      for (const r of [result!, plain!]) {
        console.log(
          `[verify] ${r.runs.map((x) => `${x.platform} ${x.runner} ${x.duration_ms} ms`).join(', ')}: ${r.detail}`,
        );
        expect(r.deterministic).toBe(true);
        expect(r.runs.map((x) => x.platform)).toEqual(['amd64', 'arm64']);
        expect(Object.keys(r.runs[0]!.files)).toEqual(['outputs.json', join('outputs', 'stats.json')]);
        expect(r.runs[1]!.files).toEqual(r.runs[0]!.files);
        expect(r.identical).toBe(true);
      }
      expect(result!.runs[0]!.runner).toBe('local adapter');
      expect(plain!.runs[0]!.files).toEqual(result!.runs[0]!.files);
    },
  );
});
