// The processor registry: `registry/<ns>/<name>.yaml` (docs/architecture.md §7), validated by the zod schema plus the
// rules a schema cannot express (the file is named after the ref, pins name the entry's own repository,
// schemas compile). Every problem points at a file, a line when one is known, and a field path, so
// `worldloop registry validate` can be acted on without reading code.
//
// One file per processor name. It holds one entry (a YAML mapping), or — once a second major exists — a
// YAML list of entries, one per major: `text/stats@1` and `text/stats@2` both live in registry/text/stats.yaml
// and share its review history. See registry/README.md.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { WorldloopError } from '../contracts/errors';
import {
  OciDigestSchema,
  parseProcessorRef,
  PLATFORMS,
  RegistryEntrySchema,
  type Platform,
  type RegistryEntry,
} from '../contracts/schemas';
import { compileInputsSchema } from '../contracts/inputs-schema';
// Linear-time regexes: a pattern RE2 cannot run (backreference, lookaround) is refused here, at load.
import { linearRegExp } from '../contracts/linear-regexp';
import { parsePinnedImageRef, pinnedImageProblem } from '../oci/image-ref';

export interface RegistryRecord {
  readonly entry: RegistryEntry;
  /** Absolute path of the YAML file. */
  readonly file: string;
  /** Position in the file's list, or null when the file holds a single mapping. */
  readonly listIndex: number | null;
}

export type Registry = ReadonlyMap<string, RegistryRecord>;

export interface RegistryProblem {
  /** Path relative to the registry folder's parent (the repository root), e.g. registry/text/stats.yaml. */
  readonly file: string;
  /** 1-based line in the file, when the field (or its nearest present parent) can be located. */
  readonly line: number | null;
  /** Dotted field path, e.g. `runtime.cpu`, `outputs[0]`, `[1].image.platforms.amd64` in a list file. */
  readonly field: string;
  readonly message: string;
}

export interface ValidateOptions {
  /** Where build.context/dockerfile/entry are resolved; defaults to the registry folder's parent. */
  readonly root?: string;
  /**
   * Also require build.dockerfile and build.entry to exist under root. Default: true for validateRegistry
   * (a review tool), false for loadRegistry — a worker needs the pins, not the processor sources, and may
   * run from a deployment that ships registry/ alone.
   */
  readonly checkBuildFiles?: boolean;
}

type PathSeg = string | number;

export function formatField(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(entry)' : out;
}

export function formatProblem(p: RegistryProblem): string {
  return `${p.file}${p.line === null ? '' : `:${p.line}`} ${p.field}: ${p.message}`;
}

/** The line of the deepest node on `path` that exists in the document (keys for missing children). */
function lineOf(doc: Document, counter: LineCounter, path: readonly PathSeg[]): number | null {
  let node: unknown = doc.contents;
  let offset: number | undefined = (doc.contents as { range?: [number] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      if (!pair) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!item) break;
      offset = (item as { range?: [number] }).range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? null : counter.linePos(offset).line;
}

/** Problems with an image reference for `platform`, or undefined when it is `<repository>@sha256:<hex>`. */
function pinProblem(entry: RegistryEntry, platform: Platform): string | undefined {
  const pin = entry.image.platforms[platform];
  if (pin === undefined || pin === '') return `no ${platform} image is pinned`;
  const why = pinnedImageProblem(pin);
  if (why) return why;
  const { repository } = parsePinnedImageRef(pin);
  if (repository !== entry.image.repository) {
    return `${JSON.stringify(pin)} names repository ${repository}, not the entry's ${entry.image.repository}`;
  }
  return undefined;
}

function issueProblems(issue: z.core.$ZodIssue, prefix: readonly PathSeg[]): { path: PathSeg[]; message: string }[] {
  const base = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: [...base, k], message: 'unknown field' }));
  }
  return [{ path: base, message: issue.message }];
}

interface Checked {
  readonly problems: RegistryProblem[];
  readonly records: RegistryRecord[];
}

async function checkFile(
  abs: string,
  relFile: string,
  nsName: [string, string] | null,
  root: string,
): Promise<Checked> {
  const problems: RegistryProblem[] = [];
  const records: RegistryRecord[] = [];
  const text = await readFile(abs, 'utf8');
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  const add = (path: readonly PathSeg[], message: string): void => {
    problems.push({ file: relFile, line: lineOf(doc, counter, path), field: formatField(path), message });
  };
  if (!nsName) {
    add([], 'registry files live at registry/<ns>/<name>.yaml (lower-case a-z, 0-9, -)');
  }
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0]?.line ?? null;
      problems.push({ file: relFile, line, field: '(yaml)', message: e.message.split('\n')[0]! });
    }
    return { problems, records };
  }
  const data: unknown = doc.toJS();
  const isList = Array.isArray(data);
  const items: unknown[] = isList ? data : [data];
  if (isList && items.length === 0) add([], 'the file lists no entries');
  const majors = new Map<string, number>();
  items.forEach((item, i) => {
    const prefix: PathSeg[] = isList ? [i] : [];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      add(prefix, 'expected a mapping (one registry entry)');
      return;
    }
    const parsed = RegistryEntrySchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) for (const p of issueProblems(issue, prefix)) add(p.path, p.message);
      return;
    }
    const entry = parsed.data;
    const before = problems.length;
    const ref = parseProcessorRef(entry.ref)!;
    if (nsName && (ref.ns !== nsName[0] || ref.name !== nsName[1])) {
      add([...prefix, 'ref'], `${entry.ref} belongs in registry/${ref.ns}/${ref.name}.yaml, not ${relFile}`);
    }
    const firstAt = majors.get(entry.ref);
    if (firstAt !== undefined) add([...prefix, 'ref'], `${entry.ref} is listed twice in this file`);
    majors.set(entry.ref, i);
    for (const platform of PLATFORMS) {
      const pin = entry.image.platforms[platform];
      // A missing pin is `worldloop pin --check`'s business (it is normal before the first build);
      // a present pin that is a tag or names another repository is wrong in any state.
      if (pin === undefined) continue;
      const why = pinProblem(entry, platform);
      if (why) add([...prefix, 'image', 'platforms', platform], why);
    }
    if (entry.image.index !== undefined && !OciDigestSchema.safeParse(entry.image.index).success) {
      add([...prefix, 'image', 'index'], `${JSON.stringify(entry.image.index)} is not sha256:<64 hex>`);
    }
    try {
      compileInputsSchema(entry.inputs, 'inputs', { regExp: linearRegExp });
    } catch (err) {
      add([...prefix, 'inputs'], (err as WorldloopError).detail ?? String(err));
    }
    entry.outputs.forEach((glob, j) => {
      if (!glob.startsWith('outputs/')) add([...prefix, 'outputs', j], 'declared outputs must start with outputs/');
    });
    for (const phase of ['admission', 'success'] as const) {
      entry.predicates[phase].forEach((p, j) => {
        if (p.kind !== 'json.schema_ok') return;
        try {
          compileInputsSchema(p.schema, 'schema', { regExp: linearRegExp });
        } catch (err) {
          add([...prefix, 'predicates', phase, j, 'schema'], (err as WorldloopError).detail ?? String(err));
        }
      });
    }
    const overlap = entry.secrets.required.filter((s) => entry.secrets.optional.includes(s));
    if (overlap.length > 0) add([...prefix, 'secrets', 'optional'], `${overlap.join(', ')} also listed as required`);
    for (const key of ['dockerfile', 'entry'] as const) {
      const target = join(root, entry.build[key]);
      if (relative(root, target).startsWith('..')) add([...prefix, 'build', key], 'must stay inside the repository');
    }
    // A misplaced file contributes no entry: its problem is already reported, a duplicate would be noise.
    if (problems.length === before && nsName) records.push({ entry, file: abs, listIndex: isList ? i : null });
  });
  return { problems, records };
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

async function walk(dir: string, rel: string[] = []): Promise<string[][]> {
  const out: string[][] = [];
  const entries = await readdir(join(dir, ...rel), { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isDirectory()) out.push(...(await walk(dir, [...rel, e.name])));
    else if (/\.ya?ml$/i.test(e.name)) out.push([...rel, e.name]);
  }
  return out;
}

const SEGMENT = /^[a-z0-9][a-z0-9-]*$/;

async function checkAll(dir: string, options: ValidateOptions, checkBuildFiles: boolean): Promise<Checked> {
  const root = options.root ?? dirname(dir);
  const problems: RegistryProblem[] = [];
  const records: RegistryRecord[] = [];
  let files: string[][];
  try {
    files = await walk(dir);
  } catch (err) {
    throw new WorldloopError(
      'ERR_REGISTRY_INVALID',
      `registry folder ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const seen = new Map<string, string>();
  for (const parts of files) {
    const abs = join(dir, ...parts);
    const relFile = relative(root, abs).split(sep).join('/');
    const base = parts.at(-1)!;
    const name = base.replace(/\.yaml$/, '');
    const nsName: [string, string] | null =
      parts.length === 2 && base.endsWith('.yaml') && SEGMENT.test(parts[0]!) && SEGMENT.test(name)
        ? [parts[0]!, name]
        : null;
    const checked = await checkFile(abs, relFile, nsName, root);
    problems.push(...checked.problems);
    for (const record of checked.records) {
      const ref = record.entry.ref;
      const other = seen.get(ref);
      if (other !== undefined) {
        problems.push({ file: relFile, line: null, field: 'ref', message: `${ref} is also defined in ${other}` });
        continue;
      }
      seen.set(ref, relFile);
      for (const key of checkBuildFiles ? (['dockerfile', 'entry'] as const) : []) {
        if (!(await exists(join(root, record.entry.build[key])))) {
          problems.push({
            file: relFile,
            line: null,
            field: `${record.listIndex === null ? '' : `[${record.listIndex}].`}build.${key}`,
            message: `${record.entry.build[key]} does not exist`,
          });
        }
      }
      records.push(record);
    }
  }
  return { problems, records };
}

/** Every problem in the registry folder; an empty list means `loadRegistry` will succeed. */
export async function validateRegistry(dir: string, options: ValidateOptions = {}): Promise<RegistryProblem[]> {
  return (await checkAll(dir, options, options.checkBuildFiles ?? true)).problems;
}

/** Loads and validates every entry; throws ERR_REGISTRY_INVALID naming file and field of each problem. */
export async function loadRegistry(dir: string, options: ValidateOptions = {}): Promise<Map<string, RegistryRecord>> {
  const { problems, records } = await checkAll(dir, options, options.checkBuildFiles ?? false);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map(formatProblem).join('; ');
    const more = problems.length > 5 ? `; and ${problems.length - 5} more (worldloop registry validate)` : '';
    throw new WorldloopError('ERR_REGISTRY_INVALID', `${shown}${more}`);
  }
  return new Map(records.map((r) => [r.entry.ref, r]));
}

/** The registry entry for `ref`, or ERR_UNKNOWN_PROCESSOR (naming the known majors of the same name). */
export function getEntry(registry: Registry, ref: string): RegistryEntry {
  return getRecord(registry, ref).entry;
}

/** Like getEntry, with the file the entry came from (for tools that rewrite it, e.g. `worldloop pin`). */
export function getRecord(registry: Registry, ref: string): RegistryRecord {
  const record = registry.get(ref);
  if (record) return record;
  const parsed = parseProcessorRef(ref);
  const sameName = parsed ? [...registry.keys()].filter((k) => k.startsWith(`${parsed.ns}/${parsed.name}@`)) : [];
  const hint = !parsed
    ? ' (expected ns/name@major)'
    : sameName.length > 0
      ? ` (known majors: ${sameName.join(', ')})`
      : '';
  throw new WorldloopError(
    'ERR_UNKNOWN_PROCESSOR',
    `${JSON.stringify(ref.slice(0, 100))} is not in the registry${hint}`,
  );
}

/** `<repository>@sha256:<hex>` for the platform, or ERR_IMAGE_UNPINNED (missing, a tag, another repository). */
export function pinnedImage(entry: RegistryEntry, platform: Platform): string {
  const why = pinProblem(entry, platform);
  if (why) throw new WorldloopError('ERR_IMAGE_UNPINNED', `${entry.ref}: ${why}`);
  return entry.image.platforms[platform]!;
}

/** The digest part of a pinned image reference. */
export function imageDigest(pinned: string): string {
  return parsePinnedImageRef(pinned).digest;
}

/** The OCI platform of this machine, which the local adapter runs. */
export function hostPlatform(arch: string = process.arch): Platform {
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'arm64':
      return 'arm64';
    default:
      throw new WorldloopError('ERR_PLATFORM_MISSING', `no processor images are built for CPU architecture ${arch}`);
  }
}

/** `v<major>` from `ns/name@major`: the tag a build publishes and `worldloop pin` reads. */
export function majorTag(ref: string): string {
  const major = /@([0-9]+)$/.exec(ref)?.[1];
  if (!major) throw new WorldloopError('ERR_UNKNOWN_PROCESSOR', `${ref} is not ns/name@major`);
  return `v${major}`;
}
