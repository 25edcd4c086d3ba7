// The signing key: created once with mode 0600 (create-only, so racing creators share one key), refused when
// others can read it or when it is not Ed25519, and loaded by name through the one secret resolver.
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultKeyFile,
  initKeyFile,
  loadKeyFile,
  signingKeyFromPem,
  verifyingKeyFromPem,
  workerSigningKey,
} from '../../src/provenance';

const dir = await mkdtemp(join(tmpdir(), 'wl-keys-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const codeOf = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'accepted';
};

describe('initKeyFile', () => {
  it('creates an Ed25519 key with mode 0600 in a 0700 folder, once', async () => {
    const file = defaultKeyFile(join(dir, 'state'));
    const first = await initKeyFile(file);
    expect(first.created).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'state', 'keys'))).mode & 0o777).toBe(0o700);
    const again = await initKeyFile(file);
    expect(again.created).toBe(false);
    expect(again.key.keyid).toBe(first.key.keyid);
    expect(first.key.publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(verifyingKeyFromPem(first.key.publicPem, 'pub').keyid).toBe(first.key.keyid);
  });

  it('racing creators end with one key', async () => {
    const file = defaultKeyFile(join(dir, 'race'));
    const results = await Promise.all(Array.from({ length: 8 }, () => initKeyFile(file)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.key.keyid)).size).toBe(1);
  });
});

describe('loadKeyFile refuses', () => {
  it('a missing file', async () => {
    expect(await codeOf(loadKeyFile(join(dir, 'nope.pem')))).toBe('ERR_SIGNING_KEY');
  });
  it('a key group or others may read', async () => {
    const file = defaultKeyFile(join(dir, 'open'));
    await initKeyFile(file);
    await chmod(file, 0o644);
    expect(await codeOf(loadKeyFile(file))).toBe('ERR_SIGNING_KEY');
  });
  it('an RSA key, and text that is not a key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const file = join(dir, 'rsa.pem');
    await writeFile(file, rsa, { mode: 0o600 });
    expect(await codeOf(loadKeyFile(file))).toBe('ERR_SIGNING_KEY');
    expect(await codeOf(() => signingKeyFromPem('not a key', 'x'))).toBe('ERR_SIGNING_KEY');
    expect(await codeOf(() => verifyingKeyFromPem('not a key', 'x'))).toBe('ERR_SIGNING_KEY');
  });
});

describe('workerSigningKey', () => {
  it('reads a named secret through the resolver, never the state folder', async () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const asked: string[] = [];
    const key = await workerSigningKey({
      stateDir: join(dir, 'unused'),
      secretName: 'WORLDLOOP_ATTESTATION_KEY',
      resolveSecret: (name) => (asked.push(name), pem),
    });
    expect(asked).toEqual(['WORLDLOOP_ATTESTATION_KEY']);
    expect(key.source).toBe('secret:WORLDLOOP_ATTESTATION_KEY');
    expect(await codeOf(stat(join(dir, 'unused')))).toBe('ENOENT');
  });
  it('creates the state-folder key on first use', async () => {
    const key = await workerSigningKey({ stateDir: join(dir, 'worker') });
    expect((await loadKeyFile(defaultKeyFile(join(dir, 'worker')))).keyid).toBe(key.keyid);
  });
});
