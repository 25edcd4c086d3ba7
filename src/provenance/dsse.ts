// DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1): the signature covers the Pre-Authentication
// Encoding of the payload type and the payload bytes, never the JSON around them, so a verifier needs no
// canonical JSON and a payload type cannot be swapped under a valid signature. Ed25519 through node:crypto.
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { DsseEnvelopeSchema, type DsseEnvelope } from '../contracts/attestation';
import { WorldloopError } from '../contracts/errors';

const utf8 = new TextEncoder();

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body; LEN = decimal byte length. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8.encode(payloadType);
  const head = utf8.encode(`DSSEv1 ${type.byteLength} ${payloadType} ${payload.byteLength} `);
  const out = new Uint8Array(head.byteLength + payload.byteLength);
  out.set(head, 0);
  out.set(payload, head.byteLength);
  return out;
}

/** A signing key with its id; Ed25519 signatures are deterministic, so the same payload signs the same. */
export interface Signer {
  readonly keyid: string;
  sign(message: Uint8Array): Uint8Array;
}

export function ed25519Signer(privateKey: KeyObject, keyid: string): Signer {
  return { keyid, sign: (message) => new Uint8Array(cryptoSign(null, message, privateKey)) };
}

export function signEnvelope(payloadType: string, payload: Uint8Array, signer: Signer): DsseEnvelope {
  const sig = signer.sign(preAuthEncoding(payloadType, payload));
  return {
    payload: Buffer.from(payload).toString('base64'),
    payloadType,
    signatures: [{ keyid: signer.keyid, sig: Buffer.from(sig).toString('base64') }],
  };
}

export interface OpenedEnvelope {
  payloadType: string;
  payload: Uint8Array;
  keyid: string;
}

/**
 * Parses an envelope and checks that a signature by `publicKey` (id `keyid`) covers it. Throws
 * ERR_ATTESTATION_INVALID naming what is wrong; returns the verified payload otherwise.
 */
export function openEnvelope(raw: unknown, publicKey: KeyObject, keyid: string): OpenedEnvelope {
  const parsed = DsseEnvelopeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new WorldloopError('ERR_ATTESTATION_INVALID', `not a DSSE envelope: ${parsed.error.issues[0]?.message}`);
  }
  const envelope = parsed.data;
  const payload = new Uint8Array(Buffer.from(envelope.payload, 'base64'));
  const pae = preAuthEncoding(envelope.payloadType, payload);
  const ours = envelope.signatures.filter((s) => s.keyid === keyid);
  if (ours.length === 0) {
    const ids = envelope.signatures.map((s) => s.keyid || '(none)').join(', ');
    throw new WorldloopError('ERR_ATTESTATION_INVALID', `no signature by key ${keyid} (signed by ${ids})`);
  }
  const valid = ours.some((s) => cryptoVerify(null, pae, publicKey, Buffer.from(s.sig, 'base64')));
  if (!valid) {
    throw new WorldloopError('ERR_ATTESTATION_INVALID', `the signature by key ${keyid} does not verify`);
  }
  return { payloadType: envelope.payloadType, payload, keyid };
}
