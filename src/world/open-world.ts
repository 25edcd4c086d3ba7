// The one place the world's objects are built from configuration: the embedded default keeps everything
// under `<stateDir>/world` (docs/architecture.md §11). Built once per store root and shared, so every caller in a
// process shares one ledger cache and one in-process lock per chain.
import { join } from 'node:path';
import type { Config } from '../config';
import { Leases } from './leases';
import { Ledger } from './ledger';
import { LocalObjectStore } from './local-object-store';
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

export function openWorld(cfg: Pick<Config, 'stateDir'>): World {
  const root = worldRoot(cfg);
  let world = opened.get(root);
  if (!world) {
    world = worldOn(new LocalObjectStore(root));
    opened.set(root, world);
  }
  return world;
}
