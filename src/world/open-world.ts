// The one place the world's objects are built from configuration: the embedded default keeps everything
// under `<stateDir>/world`; WORLDLOOP_WORLD_URL=s3://bucket/prefix puts it in a bucket (docs/architecture.md
// §11, docs/scale-out.md). Built once per store location and shared, so every caller in a process shares one
// ledger cache and one in-process lock per chain.
import { join } from 'node:path';
import type { Config } from '../config';
import { Leases } from './leases';
import { Ledger } from './ledger';
import { LocalObjectStore } from './local-object-store';
import { s3StoreFor } from './s3-client';
import type { ObjectStore } from './object-store';
import { WorldStore } from './world-store';

export interface World {
  objects: ObjectStore;
  world: WorldStore;
  ledger: Ledger;
  leases: Leases;
}

const opened = new Map<string, World>();

export function worldRoot(cfg: Pick<Config, 'stateDir'>): string {
  return join(cfg.stateDir, 'world');
}

/** Wires the store layers over one ObjectStore (for an S3-compatible backend, pass its ObjectStore here). */
export function worldOn(objects: ObjectStore): World {
  return { objects, world: new WorldStore(objects), ledger: new Ledger(objects), leases: new Leases(objects) };
}

export function openWorld(cfg: Pick<Config, 'stateDir' | 'world'>): World {
  const where = cfg.world.kind === 's3' ? `s3 ${cfg.world.endpoint ?? ''} ${cfg.world.bucket}/${cfg.world.prefix}` : '';
  const id = where || worldRoot(cfg);
  let world = opened.get(id);
  if (!world) {
    world = worldOn(cfg.world.kind === 's3' ? s3StoreFor(cfg.world) : new LocalObjectStore(worldRoot(cfg)));
    opened.set(id, world);
  }
  return world;
}
