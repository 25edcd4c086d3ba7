// The attestation link of `worldloop verify`: the DSSE envelope beside the receipt is signed by the expected
// key, carries an in-toto SLSA Provenance v1 statement about this execution, and its subjects are exactly the
// run's outputs, outputs.json and receipt copies with the digests the receipt records. (Whether the stored
// bytes still match those digests is the outputs link.)
import {
  IN_TOTO_PAYLOAD_TYPE,
  ProvenanceStatementSchema,
  attestationPath,
  type ProvenanceStatement,
} from '../contracts/attestation';
import { WorldloopError } from '../contracts/errors';
import type { Receipt } from '../contracts/schemas';
import { determinismPath } from '../contracts/write-prefix';
import { canonicalize, parseJsonBytes } from '../hashing';
import type { WorldStore } from '../world';
import { openEnvelope } from './dsse';
import type { VerifyingKey } from './keys';
import type { AdmittedRunFacts } from './run-facts';
import { runSubjects } from './statement';
import { rehash } from './verify-blobs';

const invalid = (detail: string): never => {
  throw new WorldloopError('ERR_ATTESTATION_INVALID', detail);
};

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return parseJsonBytes(bytes);
  } catch {
    return invalid(`${what} is not JSON`);
  }
}

/** The statement inside the envelope at `path`, after its signature by `key` has been checked. */
export async function openAttestation(
  world: WorldStore,
  key: VerifyingKey,
  path: string,
): Promise<ProvenanceStatement> {
  const got = await rehash(world, path);
  if (!got) return invalid(`${path} is missing`);
  if (got.blake3 !== got.entry.blake3) invalid(`${path} no longer hashes to the blake3 it is bound to`);
  const opened = openEnvelope(parseJson(got.bytes, path), key.publicKey, key.keyid);
  if (opened.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    invalid(`payload type ${opened.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  const statement = ProvenanceStatementSchema.safeParse(parseJson(opened.payload, 'the payload'));
  if (!statement.success) {
    const issue = statement.error.issues[0];
    return invalid(`not a worldloop SLSA Provenance v1 statement (${issue?.path.join('.')}: ${issue?.message})`);
  }
  return statement.data;
}

export async function verifyAttestation(
  world: WorldStore,
  key: VerifyingKey,
  receipt: Receipt,
  facts: AdmittedRunFacts,
): Promise<string> {
  const statement = await openAttestation(world, key, attestationPath(facts.execution_id));
  const { metadata } = statement.predicate.runDetails;
  const internal = statement.predicate.buildDefinition.internalParameters;
  if (metadata.invocationId !== facts.execution_id) invalid(`it attests execution ${metadata.invocationId}`);
  if (internal.signing_keyid !== key.keyid) invalid(`the statement names key ${internal.signing_keyid}`);

  const receiptPath = determinismPath(facts.execution_id);
  const [receiptEntry, indexEntry] = await Promise.all([
    world.stat(receiptPath),
    world.stat(receipt.outputs_index.path),
  ]);
  if (!receiptEntry || !indexEntry) return invalid('the receipt or outputs.json it attests is not bound');
  const expected = runSubjects({
    receipt,
    receiptPaths: [`${facts.admitted.write_prefix}receipt.json`, receiptPath],
    receiptDigest: receiptEntry,
    outputsIndex: { path: receipt.outputs_index.path, sha256: indexEntry.sha256, blake3: receipt.outputs_index.blake3 },
  });
  const key_ = (s: { name: string; digest: unknown }) => canonicalize(s);
  const have = new Set(statement.subject.map(key_));
  const want = new Set(expected.map(key_));
  const missing = expected.filter((s) => !have.has(key_(s))).map((s) => s.name);
  const extra = statement.subject.filter((s) => !want.has(key_(s))).map((s) => s.name);
  if (missing.length + extra.length > 0) {
    invalid(
      [
        missing.length ? `not attested as stored: ${missing.join(', ')}` : '',
        extra.length ? `attested but not stored so: ${extra.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
  }
  const image = statement.predicate.buildDefinition.resolvedDependencies[0];
  if (`sha256:${image?.digest.sha256}` !== receipt.image_digest) {
    invalid(`it names image sha256:${image?.digest.sha256}, the receipt ${receipt.image_digest}`);
  }
  return `signed by key ${key.keyid}; ${expected.length} subjects match`;
}
