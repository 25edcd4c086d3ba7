// The real, unmodified Modal SDK (modal@0.11.1) against the loopback fake of Modal's gRPC API, whose
// messages come from Modal's own published descriptors (tests/fixtures/modal-fake, scripts/modal-proto.py).
// Covers what the adapter does before a sandbox exists: credentials, the app by the naming rule, the image
// from the pinned digest (built once per digest), a registry pull secret by name, and the mapping of
// every failure to a catalogue code. The exact list of RPCs is asserted, so an SDK upgrade that changes the
// protocol fails here instead of in production.
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config';
import { modalAppName } from '../../src/adapters/modal/app-name';
import { createModalClient, type ModalClientHandle } from '../../src/adapters/modal/client';
import { ModalControlPlane } from '../../src/adapters/modal/control-plane';
import { deployProcessorApp } from '../../src/adapters/modal/deploy';
import {
  FakeStatus,
  modalDescriptorSetPath,
  startModalFake,
  type ModalFake,
} from '../../tests/fixtures/modal-fake/server';
import { codeOf } from '../unit/helpers/expect-code';

const TOKEN = { MODAL_TOKEN_ID: 'ak-fake-id', MODAL_TOKEN_SECRET: 'as-fake-secret' };
const DIGEST_REF = `127.0.0.1:5000/worldloop/worldloop/text-stats@sha256:${'0e'.repeat(32)}`;
const OPTS = { callDeadlineMs: 10_000, imageDeadlineMs: 20_000 };

let fake: ModalFake | undefined;
let handle: ModalClientHandle | undefined;

/** A client of the fake built exactly as the worker builds it: config → credentials → ModalClient. */
function clientFor(url: string, env: Record<string, string> = TOKEN): ModalClientHandle {
  // The SDK reads MODAL_SERVER_URL itself when the client is constructed (see src/adapters/modal/client.ts).
  vi.stubEnv('MODAL_SERVER_URL', url);
  handle = createModalClient(loadConfig({ ...env, MODAL_SERVER_URL: url, MODAL_CONFIG_PATH: '/nonexistent' }).modal);
  return handle;
}

beforeAll(() => {
  modalDescriptorSetPath(); // fetch and extract once (cached per machine) before any timed test
}, 300_000);

afterEach(async () => {
  handle?.client.close();
  handle = undefined;
  await fake?.close();
  fake = undefined;
  vi.unstubAllEnvs();
});

describe('the Modal control plane through the real SDK and the fake', () => {
  it('gets the app by the naming rule and builds the pinned image once per digest, with these exact RPCs', async () => {
    fake = await startModalFake({ tokenId: TOKEN.MODAL_TOKEN_ID, tokenSecret: TOKEN.MODAL_TOKEN_SECRET });
    const plane = new ModalControlPlane(clientFor(fake.url).client, OPTS);
    const appName = modalAppName('text/stats@1', { ci: true });
    const app = await plane.app(appName);
    const image = await plane.image(app, DIGEST_REF);
    expect(app.appId).toMatch(/^ap-fake/);
    expect(image.imageId).toMatch(/^im-fake/);
    expect(fake.calls.map((c) => c.method)).toEqual([
      'AuthTokenGet',
      'AppGetOrCreate',
      'EnvironmentGetOrCreate',
      'ImageGetOrCreate',
    ]);
    expect(fake.calls[1]!.request).toMatchObject({ app_name: 'text-stats-v1', object_creation_type: 1 });
    expect(fake.calls[3]!.request).toMatchObject({
      app_id: app.appId,
      image: { dockerfile_commands: [`FROM ${DIGEST_REF}`], image_registry_config: null },
    });

    // Same digest again (even for another app): no RPC at all.
    const again = await plane.image(await plane.app(appName), DIGEST_REF);
    expect(again.imageId).toBe(image.imageId);
    expect(fake.calls).toHaveLength(4);

    // The token travels in metadata only, never in a request body.
    expect(JSON.stringify(fake.calls)).not.toContain(TOKEN.MODAL_TOKEN_SECRET);
  });

  it('uses a registry pull secret by name for a private registry', async () => {
    fake = await startModalFake({
      tokenId: TOKEN.MODAL_TOKEN_ID,
      tokenSecret: TOKEN.MODAL_TOKEN_SECRET,
      secrets: ['GHCR_PULL'],
    });
    const plane = new ModalControlPlane(clientFor(fake.url).client, OPTS);
    const app = await plane.app('text-stats-v1');
    await plane.image(app, DIGEST_REF, 'GHCR_PULL');
    expect(fake.calls.map((c) => c.method)).toEqual([
      'AuthTokenGet',
      'AppGetOrCreate',
      'SecretGetOrCreate',
      'EnvironmentGetOrCreate',
      'ImageGetOrCreate',
    ]);
    expect(fake.calls[2]!.request).toMatchObject({ deployment_name: 'GHCR_PULL' });
    expect(fake.calls[4]!.request).toMatchObject({
      image: { image_registry_config: { registry_auth_type: 4, secret_id: 'st-fake000000' } },
    });
  });

  it('refuses a tag before any RPC (ERR_IMAGE_UNPINNED)', async () => {
    fake = await startModalFake({ tokenId: TOKEN.MODAL_TOKEN_ID, tokenSecret: TOKEN.MODAL_TOKEN_SECRET });
    const plane = new ModalControlPlane(clientFor(fake.url).client, OPTS);
    const app = await plane.app('text-stats-v1');
    const before = fake.calls.length;
    expect(await codeOf(plane.image(app, '127.0.0.1:5000/worldloop/text-stats:latest'))).toBe('ERR_IMAGE_UNPINNED');
    expect(fake.calls).toHaveLength(before);
  });
});

describe('deployProcessorApp (for the deploy lane)', () => {
  it('gets or creates the app by the naming rule and builds the pinned image in it', async () => {
    fake = await startModalFake({ tokenId: TOKEN.MODAL_TOKEN_ID, tokenSecret: TOKEN.MODAL_TOKEN_SECRET });
    const { client } = clientFor(fake.url);
    const deployed = await deployProcessorApp(client, { ref: 'text/stats@1', image: DIGEST_REF, owner: { ci: true } });
    expect(deployed).toMatchObject({ appName: 'text-stats-v1', appId: expect.stringMatching(/^ap-fake/) });
    expect(deployed.imageId).toMatch(/^im-fake/);
    expect(fake.calls.map((c) => c.method)).toEqual([
      'AuthTokenGet',
      'AppGetOrCreate',
      'EnvironmentGetOrCreate',
      'ImageGetOrCreate',
    ]);
    // Deploying again gives the same app (get-or-create by name).
    const again = await deployProcessorApp(client, { ref: 'text/stats@1', image: DIGEST_REF, owner: { ci: true } });
    expect(again.appId).toBe(deployed.appId);
  });
});

describe('Modal failures become catalogue codes', () => {
  it('no credentials at all: ERR_ADAPTER_AUTH before any network call', async () => {
    fake = await startModalFake({ tokenId: TOKEN.MODAL_TOKEN_ID, tokenSecret: TOKEN.MODAL_TOKEN_SECRET });
    expect(await codeOf(() => clientFor(fake!.url, {}))).toBe('ERR_ADAPTER_AUTH');
    expect(fake.calls).toEqual([]);
  });

  it('rejected credentials: ERR_ADAPTER_AUTH after the one AuthTokenGet', async () => {
    fake = await startModalFake({ tokenId: TOKEN.MODAL_TOKEN_ID, tokenSecret: 'another-secret' });
    const plane = new ModalControlPlane(clientFor(fake.url).client, OPTS);
    expect(await codeOf(plane.app('text-stats-v1'))).toBe('ERR_ADAPTER_AUTH');
    expect(fake.calls.map((c) => c.method)).toEqual(['AuthTokenGet']);
  });

  it('an unreachable service: ERR_ADAPTER_UNAVAILABLE well within 60 s', async () => {
    const plane = new ModalControlPlane(clientFor('http://127.0.0.1:1').client, OPTS);
    const t0 = Date.now();
    expect(await codeOf(plane.app('text-stats-v1'))).toBe('ERR_ADAPTER_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('a call that never answers: ERR_ADAPTER_UNAVAILABLE at the adapter’s deadline', async () => {
    fake = await startModalFake({
      tokenId: TOKEN.MODAL_TOKEN_ID,
      tokenSecret: TOKEN.MODAL_TOKEN_SECRET,
      handlers: { AppGetOrCreate: () => new Promise<never>(() => undefined) },
    });
    const plane = new ModalControlPlane(clientFor(fake.url).client, { ...OPTS, callDeadlineMs: 1_500 });
    const t0 = Date.now();
    expect(await codeOf(plane.app('text-stats-v1'))).toBe('ERR_ADAPTER_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('quota exhausted: ERR_ADAPTER_QUOTA', async () => {
    fake = await startModalFake({
      tokenId: TOKEN.MODAL_TOKEN_ID,
      tokenSecret: TOKEN.MODAL_TOKEN_SECRET,
      handlers: {
        AppGetOrCreate: () => {
          throw new FakeStatus(grpc.status.RESOURCE_EXHAUSTED, 'App limit reached for this workspace');
        },
      },
    });
    const plane = new ModalControlPlane(clientFor(fake.url).client, OPTS);
    expect(await codeOf(plane.app('text-stats-v1'))).toBe('ERR_ADAPTER_QUOTA');
  });

  it('an image that cannot be pulled, or a pull secret that does not exist: ERR_IMAGE_PULL', async () => {
    fake = await startModalFake({
      tokenId: TOKEN.MODAL_TOKEN_ID,
      tokenSecret: TOKEN.MODAL_TOKEN_SECRET,
      handlers: {
        // GENERIC_STATUS_FAILURE = 2, as Modal answers when the registry has no such manifest.
        ImageGetOrCreate: () => ({ image_id: 'im-bad', result: { status: 2, exception: 'manifest unknown' } }),
      },
    });
    const plane = new ModalControlPlane(clientFor(fake.url).client, OPTS);
    const app = await plane.app('text-stats-v1');
    expect(await codeOf(plane.image(app, DIGEST_REF))).toBe('ERR_IMAGE_PULL');
    expect(await codeOf(plane.image(app, DIGEST_REF, 'NO_SUCH_SECRET'))).toBe('ERR_IMAGE_PULL');
  });
});
