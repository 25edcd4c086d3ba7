// The S3 client settings of the world store, from the configuration (docs/scale-out.md). Path-style
// addressing (`http://host/bucket/key`) is what MinIO and most S3-compatible servers serve without
// wildcard DNS; AWS accepts it too. Retries: the SDK's standard strategy (exponential backoff with jitter
// on 5xx, throttling and dropped connections), with more attempts than its default 3 so a store restarting
// under a running workflow is ridden out rather than failed.
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { WorldStoreConfig } from '../config';
import { S3ObjectStore } from './s3-object-store';

export const S3_MAX_ATTEMPTS = 8;

export type S3WorldConfig = Extract<WorldStoreConfig, { kind: 's3' }>;

export function s3ClientConfig(cfg: S3WorldConfig): S3ClientConfig {
  return {
    region: cfg.region,
    endpoint: cfg.endpoint,
    forcePathStyle: true,
    credentials: cfg.credentials?.(),
    maxAttempts: S3_MAX_ATTEMPTS,
    retryMode: 'standard',
    // Checksums only where S3 requires them: S3-compatible servers differ in the newer default ones.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

export function s3StoreFor(cfg: S3WorldConfig): S3ObjectStore {
  return new S3ObjectStore({ clientConfig: s3ClientConfig(cfg), bucket: cfg.bucket, prefix: cfg.prefix });
}
