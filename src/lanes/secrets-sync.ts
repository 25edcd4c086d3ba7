// Secret sync (docs/architecture.md §9): the names come from the registry (every processor's
// secrets.required), the values from the one resolver. Fail closed: a name off the allow-list, a value the
// resolver cannot find, or a target that cannot be listed stops the sync before anything is written.
// Idempotent: neither GitHub nor Modal gives a value back, so what was written is remembered locally as a
// salted scrypt fingerprint per name (state dir, never the repository, never a value); a name present on
// the target with a matching fingerprint is left alone, so a second run writes nothing.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { WorldloopError } from '../contracts/errors';
import type { Registry } from '../registry/registry';
import type { SecretResolver } from '../secrets/resolver';
import { writeFileAtomic } from '../write-file-atomic';
import type { SecretTarget } from './secret-targets';

export type SyncAction = 'create' | 'update' | 'unchanged';

export interface SyncItem {
  readonly name: string;
  readonly action: SyncAction;
  /** Why: "missing on the target", "value differs from the last sync", "never synced from here". */
  readonly reason: string;
}

export interface SyncReport {
  readonly target: string;
  readonly check: boolean;
  readonly items: readonly SyncItem[];
  readonly written: number;
}

/** Every name some registry entry requires, sorted, once. */
export function requiredSecretNames(registry: Registry): string[] {
  const names = new Set<string>();
  for (const { entry } of registry.values()) for (const n of entry.secrets.required) names.add(n);
  return [...names].sort();
}

const RecordSchema = z.record(z.string(), z.object({ salt: z.string(), scrypt: z.string() }));
type SyncRecord = z.infer<typeof RecordSchema>;

// Cost chosen so that a guess costs ~tens of ms: the record holds no value, and guessing one from it is slow.
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

function fingerprint(value: string, salt: Buffer): Buffer {
  return scryptSync(value, salt, 32, SCRYPT);
}

async function readRecord(file: string): Promise<SyncRecord> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  const parsed = RecordSchema.safeParse(JSON.parse(text) as unknown);
  // An unreadable record only costs a rewrite of every secret; it never blocks the sync.
  return parsed.success ? parsed.data : {};
}

export interface SyncOptions {
  readonly registry: Registry;
  readonly allow: ReadonlySet<string>;
  /** A real-mode resolver (mock mode never reads a secret). */
  readonly resolver: SecretResolver;
  readonly target: SecretTarget;
  /** The state file for this target's fingerprints. */
  readonly recordFile: string;
  readonly check: boolean;
}

export async function syncSecrets(options: SyncOptions): Promise<SyncReport> {
  const { registry, allow, resolver, target, recordFile, check } = options;
  const names = requiredSecretNames(registry);
  // 1. Every name allowed and every value present — all checked before the first write.
  const unlisted = names.filter((n) => !allow.has(n));
  if (unlisted.length > 0) {
    throw new WorldloopError(
      'ERR_SECRET_NOT_ALLOWED',
      `the registry requires ${unlisted.join(', ')}, not on the allow-list (secrets.allow.yaml); nothing was written`,
    );
  }
  try {
    resolver.requireAll(names);
  } catch (error) {
    if (error instanceof WorldloopError) {
      throw new WorldloopError(error.code, `${error.detail}; nothing was written to ${target.label}`);
    }
    throw error;
  }
  const values = new Map(names.map((n) => [n, resolver.resolve(n)]));
  // 2. The target answers before anything is written to it.
  const present = await target.names();
  const record = await readRecord(recordFile);

  const items: SyncItem[] = names.map((name) => {
    if (!present.has(name)) return { name, action: 'create', reason: `missing on ${target.label}` };
    const known = record[name];
    if (!known) return { name, action: 'update', reason: 'never synced from here (its value cannot be read back)' };
    const same = timingSafeEqual(
      fingerprint(values.get(name)!, Buffer.from(known.salt, 'hex')),
      Buffer.from(known.scrypt, 'hex'),
    );
    return same
      ? { name, action: 'unchanged', reason: 'same value as the last sync' }
      : { name, action: 'update', reason: 'value differs from the last sync' };
  });
  if (check) return { target: target.label, check, items, written: 0 };

  // 3. Write what differs; remember each write at once, so an interrupted sync resumes where it stopped.
  let written = 0;
  for (const item of items) {
    if (item.action === 'unchanged') continue;
    const value = values.get(item.name)!;
    await target.put(item.name, value);
    const salt = randomBytes(16);
    record[item.name] = { salt: salt.toString('hex'), scrypt: fingerprint(value, salt).toString('hex') };
    await mkdir(dirname(recordFile), { recursive: true });
    await writeFileAtomic(recordFile, `${JSON.stringify(record, null, 2)}\n`);
    written++;
  }
  return { target: target.label, check, items, written };
}
