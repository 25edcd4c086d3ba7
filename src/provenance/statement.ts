// The provenance statement of a run (docs/provenance.md): pure, built only from facts that landed (the receipt,
// the digests of outputs.json and the receipt copies, the admitted image), so a retried Settle builds the same
// bytes and — Ed25519 being deterministic — the same signed envelope.
import {
  IN_TOTO_STATEMENT_TYPE,
  ProvenanceStatementSchema,
  SLSA_PROVENANCE_V1,
  WORLDLOOP_BUILD_TYPE,
  WORLDLOOP_BUILDER_ID,
  type ProvenanceStatement,
  type ResourceDescriptor,
  type Subject,
} from '../contracts/attestation';
import type { Receipt } from '../contracts/schemas';

/** A world artifact by path with both digests. */
export interface DigestedArtifact {
  path: string;
  sha256: string;
  blake3: string;
}

export interface RunProvenanceFacts {
  receipt: Receipt;
  /** The receipt's world paths (both copies) and their one digest pair. */
  receiptPaths: readonly string[];
  receiptDigest: { sha256: string; blake3: string };
  /** outputs.json, by path, with both digests. */
  outputsIndex: DigestedArtifact;
  /** The admitted image, `<repository>@sha256:<hex>`. */
  image: string;
  plan: string;
  /** World artifacts the run read (`{"$world": …}` inputs), resolved to digests by Admit; empty when none. */
  inputArtifacts: readonly DigestedArtifact[];
  keyid: string;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const subject = (name: string, d: { sha256: string; blake3: string }): Subject => ({
  name,
  digest: { sha256: d.sha256, blake3: d.blake3 },
});

/** Every artifact the run vouches for: each output, outputs.json and the receipt copies. */
export function runSubjects(
  facts: Pick<RunProvenanceFacts, 'receipt' | 'receiptPaths' | 'receiptDigest' | 'outputsIndex'>,
): Subject[] {
  return [
    ...facts.receipt.outputs.map((o) => subject(o.path, o)),
    subject(facts.outputsIndex.path, facts.outputsIndex),
    ...facts.receiptPaths.map((p) => subject(p, facts.receiptDigest)),
  ].sort(byName);
}

/** The image as an SLSA resource descriptor: `oci://<repository>@sha256:<hex>` with its sha256. */
export function imageDependency(image: string): ResourceDescriptor {
  const at = image.lastIndexOf('@sha256:');
  const hex = at >= 0 ? image.slice(at + '@sha256:'.length) : '';
  return { name: 'image', uri: `oci://${image}`, digest: { sha256: hex } };
}

export function inputDependency(artifact: DigestedArtifact): ResourceDescriptor {
  return { uri: artifact.path, digest: { sha256: artifact.sha256, blake3: artifact.blake3 } };
}

export function buildProvenanceStatement(facts: RunProvenanceFacts): ProvenanceStatement {
  const { receipt } = facts;
  const inputs = [...facts.inputArtifacts].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return ProvenanceStatementSchema.parse({
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: runSubjects(facts),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: WORLDLOOP_BUILD_TYPE,
        externalParameters: {
          processor_ref: receipt.processor_ref,
          inputs_hash: receipt.inputs_hash,
          mode: receipt.mode,
          plan: facts.plan,
        },
        internalParameters: {
          env_fingerprint: receipt.env_fingerprint,
          adapter: receipt.adapter,
          platform: receipt.platform,
          cache_key: receipt.cache.key,
          cache: { hit: receipt.cache.hit, source_execution_id: receipt.cache.source_execution_id },
          signing_keyid: facts.keyid,
        },
        resolvedDependencies: [imageDependency(facts.image), ...inputs.map(inputDependency)],
      },
      runDetails: {
        builder: { id: WORLDLOOP_BUILDER_ID, version: { worldloop: receipt.worldloop_version } },
        metadata: {
          invocationId: receipt.execution_id,
          startedOn: receipt.started_at,
          finishedOn: receipt.finished_at,
        },
      },
    },
  });
}
