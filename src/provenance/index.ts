// Signed provenance (docs/provenance.md): the statement builder, DSSE signing and verification, the signing key,
// and the checks `worldloop verify` runs.
export { ed25519Signer, openEnvelope, preAuthEncoding, signEnvelope, type OpenedEnvelope, type Signer } from './dsse';
export {
  defaultKeyFile,
  initKeyFile,
  keyIdOf,
  loadKeyFile,
  signingKeyFromPem,
  verifyingKeyFromPem,
  workerSigningKey,
  type KeySource,
  type SigningKey,
  type VerifyingKey,
} from './keys';
export {
  buildProvenanceStatement,
  imageDependency,
  inputDependency,
  runSubjects,
  type DigestedArtifact,
  type RunProvenanceFacts,
} from './statement';
export {
  compareOutputs,
  reexecute,
  type FileComparison,
  type FileVerdict,
  type ReexecDeps,
  type ReexecReport,
} from './reexec';
export type { AdmittedRunFacts } from './run-facts';
export { openAttestation, verifyAttestation } from './verify-attestation';
export {
  VERIFY_LINKS,
  checkHistory,
  checkLedger,
  checkOutputs,
  checkReceiptCopies,
  verifyRun,
  type LinkResult,
  type VerifyDeps,
  type VerifyLink,
  type VerifyReport,
} from './verify-run';
