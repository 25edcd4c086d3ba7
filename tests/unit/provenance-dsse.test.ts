// DSSE: the pre-authentication encoding against the spec's worked example, Ed25519 sign/verify round trips, and
// every way an envelope can be wrong (payload, type, key, keyid, shape) refused with ERR_ATTESTATION_INVALID.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519Signer, keyIdOf, openEnvelope, preAuthEncoding, signEnvelope } from '../../src/provenance';

const text = (s: string) => new TextEncoder().encode(s);

// RFC 8032 §7.1 test 1: the secret key, its public key, and the signature of the empty message.
const RFC_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_SIG_EMPTY =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const rfcKey = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(RFC_SECRET, 'hex')]),
  format: 'der',
  type: 'pkcs8',
});

describe('preAuthEncoding', () => {
  it('is the DSSE v1 example byte for byte', () => {
    const pae = preAuthEncoding('http://example.com/HelloWorld', text('hello world'));
    expect(new TextDecoder().decode(pae)).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });
  it('counts bytes, not characters', () => {
    expect(new TextDecoder().decode(preAuthEncoding('t', text('é')))).toBe('DSSEv1 1 t 2 é');
  });
});

describe('Ed25519 signing', () => {
  it('signs as RFC 8032 says (the empty message of test 1)', () => {
    const signer = ed25519Signer(rfcKey, 'k');
    expect(Buffer.from(signer.sign(new Uint8Array())).toString('hex')).toBe(RFC_SIG_EMPTY);
  });
  it('key id = SHA-256 of the DER SubjectPublicKeyInfo', () => {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(RFC_PUBLIC, 'hex')]);
    expect(keyIdOf(createPublicKey(rfcKey))).toBe(createHash('sha256').update(spki).digest('hex'));
  });
});

describe('signEnvelope / openEnvelope', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyid = keyIdOf(publicKey);
  const signer = ed25519Signer(privateKey, keyid);
  const payload = text('{"_type":"https://in-toto.io/Statement/v1"}');
  const envelope = signEnvelope('application/vnd.in-toto+json', payload, signer);

  it('round-trips and is deterministic', () => {
    expect(signEnvelope('application/vnd.in-toto+json', payload, signer)).toEqual(envelope);
    const opened = openEnvelope(envelope, publicKey, keyid);
    expect(Buffer.from(opened.payload).equals(Buffer.from(payload))).toBe(true);
    expect(opened.payloadType).toBe('application/vnd.in-toto+json');
  });

  const refused = (raw: unknown, key = publicKey, id = keyid) => {
    try {
      openEnvelope(raw, key, id);
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return 'accepted';
  };

  it.each([
    ['a changed payload', { ...envelope, payload: Buffer.from('{"x":1}').toString('base64') }],
    ['a changed payload type', { ...envelope, payloadType: 'text/plain' }],
    ['a flipped signature bit', { ...envelope, signatures: [{ keyid, sig: flip(envelope.signatures[0]!.sig) }] }],
    ['another keyid', { ...envelope, signatures: [{ ...envelope.signatures[0]!, keyid: 'other' }] }],
    ['no signatures', { ...envelope, signatures: [] }],
    ['not an envelope', { payload: 1 }],
    ['an unknown member', { ...envelope, extra: true }],
  ])('refuses %s', (_what, raw) => {
    expect(refused(raw)).toBe('ERR_ATTESTATION_INVALID');
  });

  it('refuses the right keyid with another key', () => {
    expect(refused(envelope, generateKeyPairSync('ed25519').publicKey)).toBe('ERR_ATTESTATION_INVALID');
  });
});

function flip(b64: string): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[0] = bytes[0]! ^ 1;
  return bytes.toString('base64');
}
