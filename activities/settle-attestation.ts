// The attestation step of Settle (docs/provenance.md): after the receipt has landed, sign an in-toto SLSA
// Provenance v1 statement over every output, outputs.json and the receipt copies, and bind the DSSE envelope at
// `world://artifacts/execution/<id>/attestation.dsse.json` (beside the receipt; not an output). Built only from
// what landed, so a retry would sign the same bytes; and the first attestation bound stands, so a retry after a
// key rotation never conflicts with it.
import { IN_TOTO_PAYLOAD_TYPE, attestationPath } from '../src/contracts/attestation';
import type { Receipt } from '../src/contracts';
import { determinismPath } from '../src/contracts/write-prefix';
import { canonicalizeToBytes } from '../src/hashing';
import { buildProvenanceStatement, signEnvelope, type DigestedArtifact } from '../src/provenance';
import type { ActivityDeps } from './deps';

export const ATTESTATION_MIME = 'application/vnd.dsse.envelope.v1+json';

export interface AttestArgs {
  execution_id: string;
  write_prefix: string;
  plan: string;
  /** The admitted image, `<repository>@sha256:<hex>`. */
  image: string;
  receipt: Receipt;
  /** The digests of the receipt and outputs.json as bound (Settle has them from landing them). */
  receiptDigest: DigestedBlob;
  indexDigest: DigestedBlob;
}

interface DigestedBlob {
  sha256: string;
  blake3: string;
}

/**
 * World artifacts the run read, as the receipt records them. Runs without artifact inputs (all runs until
 * `{"$world": …}` inputs land in the receipt) have none.
 */
export function inputArtifactsOf(receipt: Receipt): DigestedArtifact[] {
  const recorded = (receipt as { input_artifacts?: unknown }).input_artifacts;
  if (!Array.isArray(recorded)) return [];
  return recorded.map((a: { path: string; sha256: string; blake3: string }) => ({
    path: a.path,
    sha256: a.sha256,
    blake3: a.blake3,
  }));
}

export async function attestRun(deps: ActivityDeps, args: AttestArgs): Promise<void> {
  const path = attestationPath(args.execution_id);
  if (await deps.world.stat(path)) return;
  const receiptCopies = [`${args.write_prefix}receipt.json`, determinismPath(args.execution_id)];
  const { receiptDigest, indexDigest } = args;
  const statement = buildProvenanceStatement({
    receipt: args.receipt,
    receiptPaths: receiptCopies,
    receiptDigest: { sha256: receiptDigest.sha256, blake3: receiptDigest.blake3 },
    outputsIndex: { path: args.receipt.outputs_index.path, sha256: indexDigest.sha256, blake3: indexDigest.blake3 },
    image: args.image,
    plan: args.plan,
    inputArtifacts: inputArtifactsOf(args.receipt),
    keyid: deps.signer.keyid,
  });
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalizeToBytes(statement), deps.signer);
  const stored = await deps.world.putBlob(canonicalizeToBytes(envelope));
  await deps.world.bind(path, { ...stored, mime: ATTESTATION_MIME, execution_id: args.execution_id });
}
