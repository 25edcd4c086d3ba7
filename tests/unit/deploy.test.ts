// `worldloop deploy`'s rollout against the loopback fake of Modal's gRPC API through the real modal SDK: one
// app per processor by the CI naming rule, each pinned image built by digest, recorded for the drift audit;
// a tag instead of a digest refuses the whole deploy before any Modal call.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModalClient } from 'modal';
import { REPO_ROOT } from '../../src/config';
import { deployTargets, deployToModal, deploymentRecords } from '../../src/lanes/deploy';
import { DeploymentsFileSchema, readDeploymentsFile, recordDeployments } from '../../src/registry/drift';
import { loadRegistry, pinnedImage, getEntry } from '../../src/registry/registry';
import { startModalFake, type ModalFake } from '../fixtures/modal-fake/server';

let fake: ModalFake;
let client: ModalClient;
const tmp = mkdtempSync(join(tmpdir(), 'wl-deploy-'));

beforeAll(async () => {
  fake = await startModalFake({ tokenId: 'ak-deploy', tokenSecret: 'as-deploy' });
  vi.stubEnv('MODAL_SERVER_URL', fake.url);
  client = new ModalClient({ tokenId: 'ak-deploy', tokenSecret: 'as-deploy' });
});
afterAll(async () => {
  client.close();
  vi.unstubAllEnvs();
  await fake.close();
});

describe('worldloop deploy', () => {
  it('creates one app per processor by the CI rule and builds each pinned amd64 image; records it', async () => {
    const registry = await loadRegistry(join(REPO_ROOT, 'registry'));
    const targets = deployTargets(registry);
    expect(targets.map((t) => [t.ref, t.app])).toEqual([
      ['llm/chat@1', 'llm-chat-v1'],
      ['text/stats@1', 'text-stats-v1'],
    ]);
    const deployed = await deployToModal(targets, client);
    for (const d of deployed) {
      expect(d.image).toBe(pinnedImage(getEntry(registry, d.ref), 'amd64'));
      expect(d.appId).toMatch(/^ap-/);
      expect(d.imageId).toMatch(/^im-/);
    }
    const apps = fake.calls.filter((c) => c.method === 'AppGetOrCreate').map((c) => c.request.app_name);
    expect(apps).toEqual(['llm-chat-v1', 'text-stats-v1']);

    const file = await recordDeployments(tmp, 'dev', deploymentRecords(deployed, 'ci', new Date(0)));
    const recorded = DeploymentsFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(recorded.processors['text/stats@1']).toEqual({
      platforms: { amd64: pinnedImage(getEntry(registry, 'text/stats@1'), 'amd64') },
      deployed_at: '1970-01-01T00:00:00.000Z',
      by: 'ci',
    });

    // Again: the same apps, the same images; the record is replaced, not duplicated.
    const again = await deployToModal(targets, client);
    expect(again.map((d) => d.appId)).toEqual(deployed.map((d) => d.appId));
    await recordDeployments(tmp, 'dev', deploymentRecords(again, 'ci', new Date(1000)));
    expect(Object.keys((await readDeploymentsFile(tmp, 'dev'))!.processors)).toEqual(['llm/chat@1', 'text/stats@1']);
  });

  it('refuses a tag instead of a digest, and a missing pin, before any Modal call', async () => {
    const dir = join(tmp, 'registry');
    cpSync(join(REPO_ROOT, 'registry'), dir, { recursive: true });
    const file = join(dir, 'text', 'stats.yaml');
    const original = readFileSync(file, 'utf8');
    const calls = fake.calls.length;
    writeFileSync(file, original.replace(/(amd64: \S+)@sha256:[0-9a-f]{64}/, '$1:v1'));
    await expect(loadRegistry(dir)).rejects.toMatchObject({ code: 'ERR_REGISTRY_INVALID', message: /is a tag/ });
    writeFileSync(file, original.replace(/\n\s+amd64: \S+/, ''));
    const unpinned = await loadRegistry(dir);
    expect(() => deployTargets(unpinned)).toThrow(expect.objectContaining({ code: 'ERR_IMAGE_UNPINNED' }));
    expect(fake.calls.length).toBe(calls);
  });
});
