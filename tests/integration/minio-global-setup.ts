// Global setup shared by the lanes whose world-store suites also run against S3: starts one MinIO on its
// own loopback port and data folder, creates the test bucket, hands the endpoint to the tests
// (`inject('worldloopS3')`), and stops it at the end. Without the MinIO binary the S3 variants cannot run:
// in CI that is a failure; elsewhere the tests say what is missing (tests/unit/helpers/store-backends.ts).
import type { TestProject } from 'vitest/node';
import { createBucket, minioBinary, minioBuilt, startMinio, type MinioEndpoint } from './minio-server';

export interface S3TestTarget extends MinioEndpoint {
  readonly bucket: string;
}

export const TEST_BUCKET = 'worldloop-test';

declare module 'vitest' {
  export interface ProvidedContext {
    worldloopS3: S3TestTarget | { missing: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!minioBuilt()) {
    const missing = `MinIO is not built on this machine (${minioBinary()}): run \`bash scripts/go-tools.sh minio\``;
    if (process.env.CI === 'true') throw new Error(`${missing}; CI runs the S3 world-store suites`);
    project.provide('worldloopS3', { missing });
    return async () => undefined;
  }
  const t0 = Date.now();
  const server = await startMinio();
  await createBucket(server, TEST_BUCKET);
  const { endpoint, accessKeyId, secretAccessKey, region } = server;
  project.provide('worldloopS3', { endpoint, accessKeyId, secretAccessKey, region, bucket: TEST_BUCKET });
  console.log(`[minio] ${endpoint} pid ${server.pid()} ready in ${Date.now() - t0} ms`);
  return () => server.dispose();
}
