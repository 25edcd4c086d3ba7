// What only the S3 backend has: the mapping of keys longer than S3 allows, multipart uploads of big files,
// paginated listing, the coded errors of a missing bucket, refused credentials and an unreachable endpoint,
// and its selection by WORLDLOOP_WORLD_URL. The generic store, ledger and lease suites run against S3 too
// (tests/unit/helpers/store-backends.ts); these run on the same MinIO.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkWorldStore } from '../../src/cli/commands/doctor';
import { loadConfig } from '../../src/config';
import { WorldloopError } from '../../src/contracts/errors';
import { blake3Hex } from '../../src/hashing';
import { openWorld } from '../../src/world/open-world';
import { S3ObjectStore } from '../../src/world/s3-object-store';
import { listingPrefixes, S3_MAX_KEY_BYTES, s3KeyOf } from '../../src/world/s3-keys';
import { pathKey } from '../../src/world/store-keys';
import { freePort } from '../integration/free-port';
import { s3ClientConfigFor } from '../integration/minio-server';
import { codeOf } from './helpers/expect-code';

const utf8 = new TextEncoder();
const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
const MiB = 1024 * 1024;

/** An index key of a world path of 12 segments of 33 × "é": about 2,400 key bytes once percent-encoded. */
function longIndexKey(tail: string): string {
  const seg = 'é'.repeat(33);
  return pathKey('index/', `world://artifacts/${Array(11).fill(seg).join('/')}/${tail}`);
}

describe('S3 key mapping', () => {
  it('keeps keys that fit, and maps longer ones to a hashed name under their longest fitting head', () => {
    expect(s3KeyOf('w/', 'blobs/blake3/ab')).toBe('w/blobs/blake3/ab');
    const key = longIndexKey('x');
    expect(utf8.encode(key).byteLength).toBeGreaterThan(2000);
    const mapped = s3KeyOf('w/', key);
    expect(utf8.encode(mapped).byteLength).toBeLessThanOrEqual(S3_MAX_KEY_BYTES);
    expect(mapped).toMatch(/^w\/index\/artifacts\/(%C3%A9)+(\/(%C3%A9)+)*\/![0-9a-f]{64}$/);
    expect(mapped.endsWith(`!${blake3Hex(utf8.encode(key))}`)).toBe(true);
    expect(mapped.slice(0, mapped.lastIndexOf('/'))).toBe(`w/${key.slice(0, mapped.lastIndexOf('/') - 2)}`);
    // Distinct long keys get distinct names; the mapping is a function of the key alone.
    expect(s3KeyOf('w/', longIndexKey('y'))).not.toBe(mapped);
    expect(s3KeyOf('w/', key)).toBe(mapped);
  });

  it('a listing of a long prefix also visits the hashed folders of its long ancestors, a short one does not', () => {
    expect(listingPrefixes('w/', 'plans/p/events/')).toEqual(['w/plans/p/events/']);
    const key = longIndexKey('x');
    const prefix = key.slice(0, 1500);
    const listed = listingPrefixes('w/', prefix);
    expect(listed[0]).toBe(`w/${prefix}`);
    const head = s3KeyOf('w/', key).slice(0, s3KeyOf('w/', key).lastIndexOf('/') + 1);
    expect(listed).toContain(`${head}!`);
  });
});

const target = inject('worldloopS3');
const missing = 'missing' in target ? target.missing : undefined;

describe.skipIf(missing !== undefined)(`S3ObjectStore on MinIO${missing ? ` skipped: ${missing}` : ''}`, () => {
  const s3 = 'missing' in target ? undefined : target;
  let scratch: string;
  let n = 0;
  const fresh = (extra: Partial<ConstructorParameters<typeof S3ObjectStore>[0]> = {}): S3ObjectStore =>
    new S3ObjectStore({
      clientConfig: s3ClientConfigFor(s3!),
      bucket: s3!.bucket,
      prefix: `s3only-${process.pid}-${Date.now().toString(36)}-${++n}`,
      ...extra,
    });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'worldloop-s3-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('stores, reads, streams and lists keys longer than S3 allows, under their real names', async () => {
    const store = fresh();
    const [a, b] = [longIndexKey('a'), longIndexKey('b')];
    expect(await store.putIfAbsent(a, utf8.encode('A'))).toBe('created');
    expect(await store.putIfAbsent(a, utf8.encode('other'))).toBe('exists');
    expect(await store.putIfAbsent(b, utf8.encode('B'))).toBe('created');
    await store.putIfAbsent('index/artifacts/short@', utf8.encode('S'));
    expect(text(await store.get(a))).toBe('A');
    expect(await store.has(b)).toBe(true);
    expect(await store.has(longIndexKey('c'))).toBe(false);
    expect(await store.get(longIndexKey('c'))).toBeUndefined();
    const chunks: Buffer[] = [];
    for await (const chunk of (await store.openRead(b))!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('B');
    expect(await store.list('index/')).toEqual(['index/artifacts/short@', a, b].sort());
    // A prefix reaching past the hashed name's head, and the exact key as a prefix.
    expect(await store.list(a.slice(0, 1800))).toEqual([a, b]);
    expect(await store.list(a)).toEqual([a]);
  });

  it('lists page by page', async () => {
    const store = fresh({ listPageSize: 7 });
    const keys = Array.from({ length: 23 }, (_, i) => `p/k${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => store.putIfAbsent(k, utf8.encode(k))));
    expect(await store.list('p/')).toEqual(keys);
  });

  it('uploads a big file in parts: created once, byte for byte; a racing upload gets exists', async () => {
    const options = { multipartThreshold: 5 * MiB, partBytes: 5 * MiB };
    const src = join(scratch, 'big.bin');
    const data = randomBytes(11 * MiB + 3);
    await writeFile(src, data);
    const store = fresh(options);
    const racers = [
      store,
      new S3ObjectStore({ ...options, clientConfig: s3ClientConfigFor(s3!), bucket: s3!.bucket, prefix: store.prefix }),
    ];
    const results = await Promise.all(racers.map((s) => s.putFileIfAbsent('blobs/blake3/big', src)));
    expect(results.sort()).toEqual(['created', 'exists']);
    expect(Buffer.from((await store.get('blobs/blake3/big'))!).equals(data)).toBe(true);
    expect(await store.putFileIfAbsent('blobs/blake3/big', src)).toBe('exists');
  });

  it('a big file whose content check fails publishes nothing and leaves no upload behind', async () => {
    const store = fresh({ multipartThreshold: 5 * MiB, partBytes: 5 * MiB });
    const src = join(scratch, 'checked.bin');
    await writeFile(src, randomBytes(6 * MiB));
    const failing = {
      update: () => undefined,
      finish: () => {
        throw new WorldloopError('ERR_DIGEST_MISMATCH', 'changed while copying');
      },
    };
    expect(await codeOf(store.putFileIfAbsent('blobs/blake3/bad', src, failing))).toBe('ERR_DIGEST_MISMATCH');
    expect(await store.has('blobs/blake3/bad')).toBe(false);
    const client = new S3Client(s3ClientConfigFor(s3!));
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: s3!.bucket, Prefix: store.prefix }));
    client.destroy();
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('a missing bucket, refused credentials and an unreachable endpoint are coded errors with an action', async () => {
    const noBucket = fresh({ bucket: 'worldloop-no-such-bucket' });
    expect(await codeOf(noBucket.probe())).toBe('ERR_S3_BUCKET_MISSING');
    expect(await codeOf(noBucket.get('a'))).toBe('ERR_S3_BUCKET_MISSING');
    expect(await codeOf(noBucket.putIfAbsent('a', utf8.encode('x')))).toBe('ERR_S3_BUCKET_MISSING');
    const badCreds = fresh({
      clientConfig: {
        ...s3ClientConfigFor(s3!),
        credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong-secret' },
      },
    });
    expect(await codeOf(badCreds.probe())).toBe('ERR_S3_CREDENTIALS');
    expect(await codeOf(badCreds.list(''))).toBe('ERR_S3_CREDENTIALS');
    const err = await badCreds.putIfAbsent('a', utf8.encode('x')).catch((e: unknown) => e as WorldloopError);
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).message).not.toContain('wrong-secret');
    const closed = await freePort();
    const down = fresh({
      clientConfig: { ...s3ClientConfigFor(s3!), endpoint: `http://127.0.0.1:${closed}`, maxAttempts: 2 },
    });
    expect(await codeOf(down.get('a'))).toBe('ERR_S3_UNAVAILABLE');
  });
});

describe.skipIf(missing !== undefined)('worldloop doctor checks the bucket', () => {
  const env = (url: string, secret?: string): NodeJS.ProcessEnv => {
    const s3 = target as Exclude<typeof target, { missing: string }>;
    return {
      WORLDLOOP_STATE_DIR: '/tmp/worldloop-s3-doctor',
      WORLDLOOP_WORLD_URL: url,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secret ?? s3.secretAccessKey,
      AWS_REGION: s3.region,
    };
  };

  it('ok when the bucket answers; fail with the action when it is missing or the key is refused', async () => {
    const s3 = target as Exclude<typeof target, { missing: string }>;
    expect(await checkWorldStore(loadConfig(env(`s3://${s3.bucket}/doctor`)))).toMatchObject({ status: 'ok' });
    const noBucket = await checkWorldStore(loadConfig(env('s3://worldloop-doctor-missing/x')));
    expect(noBucket).toMatchObject({ status: 'fail', detail: expect.stringContaining('no such bucket') });
    expect(noBucket.action).toMatch(/^To fix: create the bucket/);
    const refused = await checkWorldStore(loadConfig(env(`s3://${s3.bucket}/doctor`, 'not-the-secret')));
    expect(refused).toMatchObject({ status: 'fail', action: expect.stringMatching(/AWS_SECRET_ACCESS_KEY/) });
    expect(JSON.stringify(refused)).not.toContain('not-the-secret');
  });
});

describe('selection by WORLDLOOP_WORLD_URL', () => {
  const base = { WORLDLOOP_STATE_DIR: '/tmp/worldloop-s3-config' };

  it('unset: the local store; s3://bucket/prefix: the S3 store with the AWS variables', () => {
    expect(loadConfig(base).world).toEqual({ kind: 'local' });
    const cfg = loadConfig({
      ...base,
      WORLDLOOP_WORLD_URL: 's3://team-world/prod/world/',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:17699',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'very-secret-value',
      AWS_REGION: 'eu-west-1',
    });
    expect(cfg.world).toMatchObject({
      kind: 's3',
      bucket: 'team-world',
      prefix: 'prod/world',
      endpoint: 'http://127.0.0.1:17699',
      region: 'eu-west-1',
    });
    // The secret never appears when the settings are printed or logged.
    expect(JSON.stringify(cfg.world)).not.toContain('very-secret-value');
    const { objects } = openWorld(cfg);
    expect(objects).toBeInstanceOf(S3ObjectStore);
    expect(objects.description).toBe('s3://team-world/prod/world/');
  });

  it.each(['s3://', 's3://UPPER/x', 'http://bucket/x', 's3://b/../x', 's3://ok-bucket/a b'])(
    'refuses %s with ERR_CONFIG_INVALID',
    async (url) => {
      expect(await codeOf(() => loadConfig({ ...base, WORLDLOOP_WORLD_URL: url }))).toBe('ERR_CONFIG_INVALID');
    },
  );
});
