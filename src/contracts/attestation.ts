// The signed provenance of a run (docs/provenance.md, ADR 0010): an in-toto Statement v1 whose predicate is
// SLSA Provenance v1, carried in a DSSE envelope signed with Ed25519. These schemas are what Settle writes
// and what `worldloop verify` reads back; cosign reads the same bytes (verify-blob-attestation).
import { z } from 'zod';
import { Blake3HexSchema, Sha256HexSchema } from './schemas';

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** What a worldloop run is, as a build: documented field by field in docs/provenance.md. */
export const WORLDLOOP_BUILD_TYPE = 'https://worldloop.dev/provenance/run/v1';
/** The builder: a worldloop worker (its version is in runDetails.builder.version). */
export const WORLDLOOP_BUILDER_ID = 'https://worldloop.dev/builder/worker/v1';

/** Where a run's attestation lives, beside the second receipt copy (not an output). */
export function attestationPath(executionId: string): string {
  return `world://artifacts/execution/${executionId}/attestation.dsse.json`;
}

const DigestSetSchema = z.strictObject({ sha256: Sha256HexSchema, blake3: Blake3HexSchema.optional() });

export const SubjectSchema = z.strictObject({
  name: z.string().min(1),
  digest: z.strictObject({ sha256: Sha256HexSchema, blake3: Blake3HexSchema }),
});
export type Subject = z.infer<typeof SubjectSchema>;

export const ResourceDescriptorSchema = z.strictObject({
  name: z.string().min(1).optional(),
  uri: z.string().min(1),
  digest: DigestSetSchema,
});
export type ResourceDescriptor = z.infer<typeof ResourceDescriptorSchema>;

export const ProvenancePredicateSchema = z.strictObject({
  buildDefinition: z.strictObject({
    buildType: z.literal(WORLDLOOP_BUILD_TYPE),
    externalParameters: z.strictObject({
      processor_ref: z.string(),
      inputs_hash: z.strictObject({ hash_schema: z.string(), value: Blake3HexSchema }),
      mode: z.string(),
      plan: z.string(),
    }),
    internalParameters: z.strictObject({
      env_fingerprint: z.string(),
      adapter: z.string(),
      platform: z.string(),
      cache_key: Blake3HexSchema,
      /** A cache hit names the run whose verified outputs it re-used. */
      cache: z.strictObject({ hit: z.boolean(), source_execution_id: z.string().min(1).nullable() }),
      /** The key this statement is signed with (the same id as the envelope's signature keyid). */
      signing_keyid: Sha256HexSchema,
    }),
    resolvedDependencies: z.array(ResourceDescriptorSchema).min(1),
  }),
  runDetails: z.strictObject({
    builder: z.strictObject({ id: z.literal(WORLDLOOP_BUILDER_ID), version: z.record(z.string(), z.string()) }),
    metadata: z.strictObject({
      invocationId: z.string().min(1),
      startedOn: z.string(),
      finishedOn: z.string(),
    }),
  }),
});
export type ProvenancePredicate = z.infer<typeof ProvenancePredicateSchema>;

export const ProvenanceStatementSchema = z.strictObject({
  _type: z.literal(IN_TOTO_STATEMENT_TYPE),
  subject: z.array(SubjectSchema).min(1),
  predicateType: z.literal(SLSA_PROVENANCE_V1),
  predicate: ProvenancePredicateSchema,
});
export type ProvenanceStatement = z.infer<typeof ProvenanceStatementSchema>;

const Base64Schema = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected standard base64');

export const DsseEnvelopeSchema = z.strictObject({
  payload: Base64Schema,
  payloadType: z.string().min(1),
  signatures: z.array(z.strictObject({ keyid: z.string(), sig: Base64Schema })).min(1),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelopeSchema>;
