// `worldloop keys init|show` as a user runs them: init creates the 0600 key once, show prints its id, and
// `show --public` prints the SPKI PEM whose SHA-256 (of the DER form) is that id — recomputed here from the PEM.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { defaultKeyFile } from '../../src/provenance';

const exec = promisify(execFile);
const state = await mkdtemp(join(tmpdir(), 'wl-keys-cli-'));
afterAll(() => rm(state, { recursive: true, force: true }));

const cli = (...args: string[]) =>
  exec(process.execPath, [join(REPO_ROOT, 'bin/worldloop.js'), 'keys', ...args], {
    env: { PATH: process.env.PATH, HOME: state, WORLDLOOP_STATE_DIR: state },
    timeout: 100_000,
  });

describe('worldloop keys', () => {
  it('init creates once, show --public prints the key whose DER SHA-256 is the key id', async () => {
    const first = JSON.parse((await cli('init', '--json')).stdout) as { keyid: string; created: boolean };
    expect(first.created).toBe(true);
    expect((await stat(defaultKeyFile(state))).mode & 0o777).toBe(0o600);
    const again = JSON.parse((await cli('init', '--json')).stdout) as { keyid: string; created: boolean };
    expect(again).toMatchObject({ keyid: first.keyid, created: false });

    const pem = (await cli('show', '--public')).stdout;
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    // PEM is base64 of the DER between its armour lines (RFC 7468): decode it by hand, hash the DER.
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    expect(der.byteLength).toBe(44); // Ed25519 SPKI: 12 bytes of header, 32 of key
    expect(createHash('sha256').update(der).digest('hex')).toBe(first.keyid);
    expect((await cli('show')).stdout).toContain(`keyid      ${first.keyid}`);
  }, 300_000);

  it('show without a key: ERR_SIGNING_KEY, exit 1, no stack trace', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'wl-keys-none-'));
    try {
      await exec(process.execPath, [join(REPO_ROOT, 'bin/worldloop.js'), 'keys', 'show'], {
        env: { PATH: process.env.PATH, HOME: empty, WORLDLOOP_STATE_DIR: empty },
        timeout: 100_000,
      });
      expect.unreachable('keys show succeeded without a key');
    } catch (err) {
      const e = err as { code: number; stderr: string };
      expect(e.code).toBe(1);
      expect(e.stderr).toMatch(/^ERR_SIGNING_KEY: no signing key at /);
      expect(e.stderr).toMatch(/To fix: run `worldloop keys init`/);
      expect(e.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  }, 300_000);
});
