// Starting the loopback OCI registry from TypeScript on its own port and state dir (the shared one on
// :5000 is left alone): it answers the distribution API, a second call reuses it, and it stores blobs.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import {
  ensureOciRegistry,
  ociRegistryBinary,
  ociRegistryConfig,
  ociRegistryPaths,
} from '../../src/oci/registry-server';
import { freePort } from './free-port';

describe('loopback OCI registry', () => {
  let cfg: Config | undefined;
  let stateDir: string | undefined;

  afterAll(async () => {
    if (cfg) {
      const pid = Number.parseInt(await readFile(ociRegistryPaths(cfg).pidFile, 'utf8').catch(() => ''), 10);
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('starts on a free port, answers /v2/ without auth, is reused, and stores a blob', async () => {
    expect(ociRegistryBinary(process.env['PATH']), 'no registry binary: run `bash scripts/setup.sh`').toBeDefined();
    stateDir = await mkdtemp(join(tmpdir(), 'wl-oci-'));
    cfg = loadConfig({
      ...process.env,
      WORLDLOOP_STATE_DIR: stateDir,
      WORLDLOOP_OCI_REGISTRY: `127.0.0.1:${await freePort()}`,
    });

    const first = await ensureOciRegistry(cfg);
    expect(first).toEqual({ url: `http://${cfg.ociRegistry}`, started: true });
    expect(await ensureOciRegistry(cfg)).toEqual({ url: first.url, started: false });
    expect(await readFile(ociRegistryPaths(cfg).config, 'utf8')).toBe(ociRegistryConfig(cfg));

    // Monolithic blob upload (POST then PUT with the digest), then read it back.
    const body = Buffer.from('worldloop registry probe\n');
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const post = await fetch(`${first.url}/v2/probe/blobs/uploads/`, { method: 'POST' });
    expect(post.status).toBe(202);
    const location = new URL(post.headers.get('location')!, first.url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(201);
    const get = await fetch(`${first.url}/v2/probe/blobs/${digest}`);
    expect(get.status).toBe(200);
    expect(Buffer.from(await get.arrayBuffer()).equals(body)).toBe(true);
  });
});
