// The attestation signing key (docs/provenance.md §Keys). Ed25519, private key as PKCS#8 PEM. By default it
// lives under the state folder, created once with mode 0600 (`worldloop keys init`, or the first worker that
// needs one); in real deployments it comes by name through the one secret resolver
// (WORLDLOOP_SIGNING_KEY_SECRET). Its id is hex(SHA-256(DER SubjectPublicKeyInfo of the public key)): stable,
// computable by anyone holding the public PEM (`openssl pkey -pubin -outform DER | sha256sum`).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WorldloopError } from '../contracts/errors';
import { writeFileAtomic } from '../write-file-atomic';
import { ed25519Signer, type Signer } from './dsse';

export interface SigningKey {
  readonly keyid: string;
  readonly publicKey: KeyObject;
  /** SPKI PEM, the form cosign and openssl read (`cosign verify-blob-attestation --key`). */
  readonly publicPem: string;
  readonly signer: Signer;
  /** Where the private key came from: a file path or `secret:<NAME>`. */
  readonly source: string;
}

export interface VerifyingKey {
  readonly keyid: string;
  readonly publicKey: KeyObject;
}

export function defaultKeyFile(stateDir: string): string {
  return join(stateDir, 'keys', 'attestation-ed25519.pem');
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function signingKeyFrom(privateKey: KeyObject, source: string): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new WorldloopError(
      'ERR_SIGNING_KEY',
      `${source} holds an ${privateKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const keyid = keyIdOf(publicKey);
  return {
    keyid,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    signer: ed25519Signer(privateKey, keyid),
    source,
  };
}

/** A private key from PEM text; anything else is ERR_SIGNING_KEY naming where it came from (never the text). */
export function signingKeyFromPem(pem: string, source: string): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new WorldloopError('ERR_SIGNING_KEY', `${source} is not a PEM private key`);
  }
  return signingKeyFrom(key, source);
}

/** A public key from SPKI PEM text (for `verify --key`). */
export function verifyingKeyFromPem(pem: string, source: string): VerifyingKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new WorldloopError('ERR_SIGNING_KEY', `${source} is not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new WorldloopError(
      'ERR_SIGNING_KEY',
      `${source} is an ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`,
    );
  }
  return { keyid: keyIdOf(key), publicKey: key };
}

/** Reads the key file; refuses a missing file, one others may read, or anything but an Ed25519 key. */
export async function loadKeyFile(file: string): Promise<SigningKey> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch {
    throw new WorldloopError('ERR_SIGNING_KEY', `no signing key at ${file}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new WorldloopError(
      'ERR_SIGNING_KEY',
      `${file} has mode ${(mode & 0o777).toString(8)}; a private key must not be readable by group or others`,
    );
  }
  return signingKeyFromPem(await readFile(file, 'utf8'), file);
}

/**
 * Creates a new key at `file` unless one is there (create-only, so racing workers end up with one key).
 * Returns the key in the file and whether this call created it.
 */
export async function initKeyFile(file: string): Promise<{ key: SigningKey; created: boolean }> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    await writeFileAtomic(file, pem, { mode: 0o600, exclusive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { key: await loadKeyFile(file), created: false };
  }
  return { key: await loadKeyFile(file), created: true };
}

export interface KeySource {
  /** The embedded default: `<stateDir>/keys/attestation-ed25519.pem`. */
  readonly stateDir: string;
  /** Set in real deployments: the secret (by name) that holds the PEM private key. */
  readonly secretName?: string;
  /** The one secret resolver's `resolve`, used only when secretName is set. */
  readonly resolveSecret?: (name: string) => string;
}

/** The key a worker signs with: the named secret when one is configured, else the state-folder key (created on first use). */
export async function workerSigningKey(source: KeySource): Promise<SigningKey> {
  if (source.secretName) {
    if (!source.resolveSecret) throw new WorldloopError('ERR_SIGNING_KEY', 'no secret resolver to read the key with');
    return signingKeyFromPem(source.resolveSecret(source.secretName), `secret:${source.secretName}`);
  }
  return (await initKeyFile(defaultKeyFile(source.stateDir))).key;
}
