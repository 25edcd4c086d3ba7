// ObjectStore on an S3-compatible bucket — the outgrown configuration (docs/architecture.md §11,
// docs/scale-out.md). The store's one atomic primitive, the create-only write, is a PUT (or the completion
// of a multipart upload) with `If-None-Match: *`: of N concurrent writers S3 gives exactly one a 200 and the
// others 412, and no reader ever sees a partly written object. Keys longer than S3 allows are mapped by
// s3-keys.ts. Retries with backoff on 5xx, throttling and dropped connections are the SDK's standard retry
// strategy (configured where the client is built, s3-client.ts).
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { WorldloopError } from '../contracts/errors';
import { validateKey, validatePrefix, type ContentCheck, type ObjectStore, type PutResult } from './object-store';
import {
  codedS3Error,
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  s3Attempts,
  s3Status,
} from './s3-errors';
import {
  MAX_FRAME_BYTES,
  isHashedName,
  isLongKey,
  keyFromFrame,
  listingPrefixes,
  longKeyFrame,
  normalisePrefix,
  s3KeyOf,
} from './s3-keys';

/** S3's smallest part (all but the last); files up to the threshold go in one PUT. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const CONFLICT_RETRIES = 5;

type Sdk = typeof S3Sdk;
let sdkLoading: Promise<Sdk> | undefined;
/** The SDK is loaded on first use: it costs about half a second, and most commands never touch S3. */
const loadSdk = (): Promise<Sdk> => (sdkLoading ??= import('@aws-sdk/client-s3'));

export interface S3ObjectStoreOptions {
  /** How to reach the endpoint (s3-client.ts builds it from the configuration). */
  readonly clientConfig: S3ClientConfig;
  readonly bucket: string;
  /** Key prefix inside the bucket (`team/world`); empty for the bucket root. */
  readonly prefix?: string;
  /** Files larger than this are multipart uploads (default 16 MiB). */
  readonly multipartThreshold?: number;
  /** Part size of a multipart upload (default 8 MiB, at least 5 MiB). */
  readonly partBytes?: number;
  /** Keys per listing page (S3's default and maximum is 1000; tests page with fewer). */
  readonly listPageSize?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a).equals(Buffer.from(b));
}

export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly clientConfig: S3ClientConfig;
  private connecting: Promise<{ sdk: Sdk; client: S3Client }> | undefined;
  private readonly multipartThreshold: number;
  private readonly partBytes: number;
  private readonly listPageSize: number | undefined;

  constructor(options: S3ObjectStoreOptions) {
    this.clientConfig = options.clientConfig;
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix ?? '');
    this.partBytes = Math.max(MIN_PART_BYTES, options.partBytes ?? 8 * 1024 * 1024);
    this.multipartThreshold = Math.max(this.partBytes, options.multipartThreshold ?? 16 * 1024 * 1024);
    this.listPageSize = options.listPageSize;
    this.description = `s3://${this.bucket}/${this.prefix}`;
  }

  /** The SDK and one client, made on first use and shared by every call of this store. */
  private s3(): Promise<{ sdk: Sdk; client: S3Client }> {
    this.connecting ??= loadSdk().then((sdk) => ({ sdk, client: new sdk.S3Client(this.clientConfig) }));
    return this.connecting;
  }

  private where(key?: string): string {
    return key === undefined ? this.description : `${this.description}${key}`;
  }

  /** Runs one SDK call, turning failures that are not answers into coded errors. */
  private async call<T>(key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw codedS3Error(err, this.where(key));
    }
  }

  /** Checks that the bucket exists and the credentials may use it (doctor, worker start). */
  async probe(): Promise<void> {
    const { sdk, client } = await this.s3();
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      // HEAD answers carry no error body: a 404 here is the bucket itself.
      const status = s3Status(err);
      if (status === 404) {
        throw new WorldloopError('ERR_S3_BUCKET_MISSING', `${this.description}: no such bucket`, { cause: err });
      }
      if (status === 403 || status === 401) {
        const detail = `${this.description}: HTTP ${status}, the credentials were refused or may not use this bucket`;
        throw new WorldloopError('ERR_S3_CREDENTIALS', detail, { cause: err });
      }
      throw codedS3Error(err, this.description);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const body = await this.fetchBody(validateKey(key));
    if (body === undefined) return undefined;
    if (!isLongKey(this.prefix, key)) return body;
    const frame = this.checkFrame(key, body);
    return body.subarray(frame);
  }

  private async fetchBody(key: string, range?: string): Promise<Uint8Array | undefined> {
    const { sdk, client } = await this.s3();
    try {
      const out = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.bucket, Key: s3KeyOf(this.prefix, key), Range: range }),
      );
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw codedS3Error(err, this.where(key));
    }
  }

  /** The length of a long key's frame, after checking it names `key` (so the hash named the right object). */
  private checkFrame(key: string, body: Uint8Array): number {
    const frame = keyFromFrame(body.subarray(0, MAX_FRAME_BYTES));
    if (!frame || frame.key !== key) {
      throw new WorldloopError('ERR_INVARIANT', `${this.where(key)}: the object under the hashed name is not this key`);
    }
    return frame.frameBytes;
  }

  async has(key: string): Promise<boolean> {
    const { sdk, client } = await this.s3();
    try {
      await client.send(
        new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: s3KeyOf(this.prefix, validateKey(key)) }),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw codedS3Error(err, this.where(key));
    }
  }

  async putIfAbsent(key: string, bytes: Uint8Array): Promise<PutResult> {
    validateKey(key);
    const { sdk, client } = await this.s3();
    const body = isLongKey(this.prefix, key) ? concat(longKeyFrame(key), bytes) : bytes;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(
          new sdk.PutObjectCommand({
            Bucket: this.bucket,
            Key: s3KeyOf(this.prefix, key),
            Body: body,
            IfNoneMatch: '*',
          }),
        );
        return 'created';
      } catch (err) {
        if (isPreconditionFailed(err)) return this.afterPreconditionFailed(key, bytes, err);
        if (isConditionalConflict(err) && attempt < CONFLICT_RETRIES) {
          await sleep(20 * attempt * Math.random());
          continue;
        }
        throw codedS3Error(err, this.where(key));
      }
    }
  }

  /**
   * A 412 after the SDK retried may be our own first attempt, which landed although its answer was lost.
   * The object then holds exactly our bytes and the write was ours; otherwise someone else created it.
   */
  private async afterPreconditionFailed(key: string, bytes: Uint8Array, err: unknown): Promise<PutResult> {
    if (s3Attempts(err) <= 1) return 'exists';
    const stored = await this.get(key);
    return stored !== undefined && sameBytes(stored, bytes) ? 'created' : 'exists';
  }

  async putFileIfAbsent(key: string, srcPath: string, check?: ContentCheck): Promise<PutResult> {
    validateKey(key);
    // A blob that is already there is not uploaded again (content-addressed keys make this the common case).
    if (await this.has(key)) return 'exists';
    const { size } = await stat(srcPath);
    if (size <= this.multipartThreshold) {
      const bytes = await this.readChecked(srcPath, check);
      return this.putIfAbsent(key, bytes);
    }
    return this.multipartIfAbsent(key, srcPath, check);
  }

  /** Reads a small file whole, feeding the check, which must pass before anything is sent. */
  private async readChecked(srcPath: string, check?: ContentCheck): Promise<Uint8Array> {
    const fh = await open(srcPath, 'r');
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        check?.update(chunk);
        chunks.push(chunk);
      }
    } finally {
      await fh.close();
    }
    check?.finish();
    return new Uint8Array(Buffer.concat(chunks));
  }

  /**
   * A big file as a multipart upload: parts are invisible until the completion, which is the create-only
   * step (`If-None-Match: *`). A failed check or a lost race aborts the upload, so nothing is published.
   */
  private async multipartIfAbsent(key: string, srcPath: string, check?: ContentCheck): Promise<PutResult> {
    const { sdk, client } = await this.s3();
    const s3Key = s3KeyOf(this.prefix, key);
    const created = await this.call(key, () =>
      client.send(new sdk.CreateMultipartUploadCommand({ Bucket: this.bucket, Key: s3Key })),
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw new WorldloopError('ERR_S3_UNAVAILABLE', `${this.where(key)}: no upload id returned`);
    const abort = async (): Promise<void> => {
      await client
        .send(new sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: s3Key, UploadId: uploadId }))
        .catch(() => undefined); // an unfinished upload is invisible; a bucket lifecycle rule reaps leftovers
    };
    try {
      const parts = await this.uploadParts({ sdk, client }, key, s3Key, uploadId, srcPath, check);
      check?.finish();
      await client.send(
        new sdk.CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: s3Key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: '*',
        }),
      );
      return 'created';
    } catch (err) {
      await abort();
      if (isPreconditionFailed(err)) return 'exists';
      throw codedS3Error(err, this.where(key));
    }
  }

  private async uploadParts(
    { sdk, client }: { sdk: Sdk; client: S3Client },
    key: string,
    s3Key: string,
    uploadId: string,
    srcPath: string,
    check?: ContentCheck,
  ): Promise<{ ETag: string; PartNumber: number }[]> {
    const parts: { ETag: string; PartNumber: number }[] = [];
    const fh = await open(srcPath, 'r');
    try {
      // The first part carries the frame line of a long key; the check sees only the file's bytes.
      let pending: Uint8Array = isLongKey(this.prefix, key) ? longKeyFrame(key) : new Uint8Array();
      let eof = false;
      while (!eof) {
        const buf = Buffer.alloc(this.partBytes - pending.byteLength);
        const { bytesRead } = await fh.read(buf, 0, buf.byteLength, null);
        eof = bytesRead < buf.byteLength;
        const data = buf.subarray(0, bytesRead);
        check?.update(data);
        const body = pending.byteLength > 0 ? concat(pending, data) : data;
        pending = new Uint8Array();
        if (body.byteLength === 0 && parts.length > 0) break;
        const PartNumber = parts.length + 1;
        const out = await client.send(
          new sdk.UploadPartCommand({ Bucket: this.bucket, Key: s3Key, UploadId: uploadId, PartNumber, Body: body }),
        );
        if (!out.ETag) throw new WorldloopError('ERR_S3_UNAVAILABLE', `${this.where(key)}: part without an ETag`);
        parts.push({ ETag: out.ETag, PartNumber });
      }
    } finally {
      await fh.close();
    }
    return parts;
  }

  async list(prefix: string): Promise<string[]> {
    validatePrefix(prefix);
    const found = new Set<string>();
    for (const s3Prefix of listingPrefixes(this.prefix, prefix)) {
      for (const s3Key of await this.listRaw(s3Prefix)) {
        const relative = s3Key.slice(this.prefix.length);
        const key = isHashedName(relative) ? await this.keyOfHashed(s3Key) : relative;
        if (key !== undefined && key.startsWith(prefix)) found.add(key);
      }
    }
    return [...found].sort();
  }

  /** Every S3 key under an S3 prefix, following continuation tokens page by page. */
  private async listRaw(s3Prefix: string): Promise<string[]> {
    const { sdk, client } = await this.s3();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(undefined, () =>
        client.send(
          new sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: s3Prefix,
            ContinuationToken: token,
            MaxKeys: this.listPageSize,
          }),
        ),
      );
      for (const item of page.Contents ?? []) if (item.Key !== undefined) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** The store key a hashed object was written for, read from its frame line. */
  private async keyOfHashed(s3Key: string): Promise<string | undefined> {
    const { sdk, client } = await this.s3();
    const out = await this.call(undefined, async () => {
      try {
        return await client.send(
          new sdk.GetObjectCommand({ Bucket: this.bucket, Key: s3Key, Range: `bytes=0-${MAX_FRAME_BYTES - 1}` }),
        );
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    if (!out?.Body) return undefined;
    const frame = keyFromFrame(await out.Body.transformToByteArray());
    // Only a frame whose key maps back to this very name counts: nothing else can be listed in its place.
    return frame && s3KeyOf(this.prefix, frame.key) === s3Key ? frame.key : undefined;
  }

  async openRead(key: string): Promise<Readable | undefined> {
    validateKey(key);
    // A long key's object is a small index record behind a frame line: read and check it whole.
    if (isLongKey(this.prefix, key)) {
      const bytes = await this.get(key);
      return bytes === undefined ? undefined : Readable.from([Buffer.from(bytes)]);
    }
    const { sdk, client } = await this.s3();
    try {
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: s3KeyOf(this.prefix, key) }));
      return out.Body instanceof Readable ? out.Body : Readable.from([]);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw codedS3Error(err, this.where(key));
    }
  }
}
