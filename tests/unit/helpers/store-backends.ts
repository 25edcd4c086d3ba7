// The world-store, ledger and lease suites run against every ObjectStore backend: the local disk (always)
// and S3 on a real MinIO (started by tests/integration/minio-global-setup.ts). A backend gives fresh stores
// over one location (a "second process" is a second store object) and raw access below the store, which
// the tamper tests use to edit, remove or swap stored objects behind the store's back.
import { mkdtemp, readFile, readdir, rm, unlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { LocalObjectStore } from '../../../src/world/local-object-store';
import type { ObjectStore } from '../../../src/world/object-store';
import { S3ObjectStore } from '../../../src/world/s3-object-store';
import { s3KeyOf } from '../../../src/world/s3-keys';
import { s3ClientConfigFor } from '../../integration/minio-server';

/** Access below the store: plain overwrites and deletes, which the store itself never does. */
export interface RawObjects {
  read(key: string): Promise<Uint8Array>;
  /** Replaces (or creates) the object's bytes. */
  write(key: string, bytes: Uint8Array): Promise<void>;
  remove(key: string): Promise<void>;
  /** The names directly inside a key folder (`plans/p/checkpoints`). */
  names(folder: string): Promise<string[]>;
}

export interface StoreLocation {
  /** A new store object over the same objects (what another process would open). */
  open(): ObjectStore;
  raw: RawObjects;
  /** A scratch folder on local disk for source files and copies. */
  scratch: string;
  cleanup(): Promise<void>;
}

export interface StoreBackend {
  readonly name: 'local' | 's3';
  /** Why this backend cannot run here, or undefined when it can. */
  readonly missing: string | undefined;
  /** A fresh, empty store location. */
  create(): Promise<StoreLocation>;
  /** A module path and an expression over it (imported as `mod`) that opens the same location in a child process. */
  childOpen(location: StoreLocation): { module: string; expr: string };
}

const localBackend: StoreBackend = {
  name: 'local',
  missing: undefined,
  async create() {
    const scratch = await mkdtemp(join(tmpdir(), 'worldloop-store-'));
    const root = join(scratch, 'store');
    const pathOf = (key: string): string => join(root, ...key.split('/'));
    return {
      open: () => new LocalObjectStore(root),
      scratch,
      raw: {
        read: async (key) => new Uint8Array(await readFile(pathOf(key))),
        write: async (key, bytes) => {
          await mkdir(dirname(pathOf(key)), { recursive: true });
          await unlink(pathOf(key)).catch(() => undefined);
          await writeFile(pathOf(key), bytes);
        },
        remove: (key) => unlink(pathOf(key)),
        names: async (folder) => (await readdir(pathOf(folder))).sort(),
      },
      cleanup: () => rm(scratch, { recursive: true, force: true }),
    };
  },
  childOpen: (location) => ({
    module: 'src/world/local-object-store.ts',
    expr: `new mod.LocalObjectStore(${JSON.stringify((location.open() as LocalObjectStore).root)})`,
  }),
};

function s3Backend(): StoreBackend {
  const target = inject('worldloopS3');
  const missing = 'missing' in target ? target.missing : undefined;
  let n = 0;
  return {
    name: 's3',
    missing,
    async create() {
      if ('missing' in target) throw new Error(target.missing);
      const clientConfig = s3ClientConfigFor(target);
      // One prefix per test (and per worker process) keeps tests independent in one bucket.
      const prefix = `t${process.pid}-${Date.now().toString(36)}-${++n}`;
      const scratch = await mkdtemp(join(tmpdir(), 'worldloop-store-'));
      const client = new S3Client(clientConfig);
      const open = (): S3ObjectStore => new S3ObjectStore({ clientConfig, bucket: target.bucket, prefix });
      const s3Key = (key: string): string => s3KeyOf(`${prefix}/`, key);
      return {
        open,
        scratch,
        raw: {
          read: async (key) => {
            const out = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: s3Key(key) }));
            return out.Body!.transformToByteArray();
          },
          write: async (key, bytes) => {
            await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: s3Key(key), Body: bytes }));
          },
          remove: async (key) => {
            await client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: s3Key(key) }));
          },
          names: async (folder) => {
            const base = `${prefix}/${folder}/`;
            const out = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: base }));
            return (out.Contents ?? []).map((c) => c.Key!.slice(base.length)).sort();
          },
        },
        cleanup: async () => {
          client.destroy();
          await rm(scratch, { recursive: true, force: true });
        },
      };
    },
    childOpen: (location) => {
      const store = location.open() as S3ObjectStore;
      if ('missing' in target) throw new Error(target.missing);
      const options = { clientConfig: s3ClientConfigFor(target), bucket: target.bucket, prefix: store.prefix };
      return { module: 'src/world/s3-object-store.ts', expr: `new mod.S3ObjectStore(${JSON.stringify(options)})` };
    },
  };
}

/** Every backend, the local one first. */
export function storeBackends(): StoreBackend[] {
  return [localBackend, s3Backend()];
}

/** The describe title of a backend, naming what is missing when it cannot run here. */
export function backendTitle(backend: StoreBackend): string {
  return backend.missing === undefined ? `[${backend.name}]` : `[${backend.name}] skipped: ${backend.missing}`;
}
