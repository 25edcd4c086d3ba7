// The world layer's public surface: explicit named re-exports, one block per module.
export {
  FACETS,
  MAX_PATH_BYTES,
  MAX_RAW_CHARS,
  MAX_SEGMENT_BYTES,
  RESERVED_SEGMENTS,
  SCHEME,
  canonicalPath,
  canonicalise,
  encodeSegment,
  isUnderPrefix,
  joinWorldPath,
  parsePath,
  prefixesOverlap,
  type CanonResult,
  type CanonicalPath,
  type Facet,
  type SelectorKind,
} from './path';
export { assertNoDuplicates, findDuplicate, type DuplicatePaths } from './path-duplicates';
export { foldKey } from './path-fold';
export {
  MAX_KEY_BYTES,
  validateKey,
  validatePrefix,
  type ContentCheck,
  type ObjectStore,
  type PutResult,
} from './object-store';
export { LocalObjectStore } from './local-object-store';
export { NAMESPACES, blobKey, encodeKeySegment, pathKey, prefixKey } from './store-keys';
export { WorldStore, type BindInput, type BlobDigest, type QuarantineMarker, type WorldEntry } from './world-store';
export {
  GENESIS_HASH,
  HashChain,
  chainHash,
  seqName,
  type AppendDecision,
  type ChainEvent,
  type ChainHead,
  type ChainReducer,
  type ChainSnapshot,
  type ChainVerification,
  type HashChainOptions,
} from './hash-chain';
export {
  Ledger,
  PLAN_EVENT_TYPES,
  validatePlanKey,
  type PlanEventType,
  type PlanVerification,
  type PlanView,
  type ReleaseResult,
  type Reservation,
  type ReservationResult,
  type ReservationStatus,
} from './ledger';
export { Leases, type Lease, type LeaseResult } from './leases';
export { openWorld, worldOn, worldRoot, type World } from './open-world';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store';
export { S3_MAX_ATTEMPTS, s3ClientConfig, s3StoreFor, type S3WorldConfig } from './s3-client';
export { S3_MAX_KEY_BYTES, s3KeyOf } from './s3-keys';
export { mapLimit } from './map-limit';
