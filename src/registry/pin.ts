// `worldloop pin`: reads what a build published (the index behind the entry's `v<major>` tag, checked to
// list both platforms with configs of the right architecture) and rewrites `image.platforms.{amd64,arm64}`
// and `image.index` in registry/<ns>/<name>.yaml — only the fields whose digest changed, through the yaml
// Document API so comments and layout survive. A second run finds nothing to change and says so.
//
// The files are read here directly (not through loadRegistry) because a registry with a tag where a
// digest belongs is exactly what `pin --check` must report as ERR_IMAGE_UNPINNED, while loadRegistry
// would refuse the whole registry as invalid first.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isMap, isScalar, parseDocument, type Document, type Scalar } from 'yaml';
import { WorldloopError } from '../contracts/errors';
import type { Platform } from '../contracts/schemas';
import type { OciClient } from '../oci/client';
import { digestOfRef, isDigest } from '../oci/image-ref';
import { REQUIRED_PLATFORMS, assertIndexPlatforms } from '../oci/index-platforms';
import { majorTag } from './registry';

export const PROFILES = ['dev', 'staging', 'production'] as const;
export type Profile = (typeof PROFILES)[number];

export type PinField = Platform | 'index';

export interface PinnedState {
  readonly ref: string;
  /** registry file relative to the registry folder's parent, e.g. registry/text/stats.yaml */
  readonly file: string;
  readonly absFile: string;
  /** position in a list file, or null for a single-entry file */
  readonly listIndex: number | null;
  readonly repository: string;
  readonly platforms: Partial<Record<Platform, string>>;
  readonly index: string | undefined;
}

/** `unpublished`: nothing is published under the entry's tag, so there is nothing to pin it to. */
export type PinStatus = 'ok' | 'stale' | 'missing' | 'tag' | 'foreign' | 'unpublished';

export interface PinFinding {
  readonly ref: string;
  readonly file: string;
  readonly field: PinField;
  readonly status: PinStatus;
  readonly current: string | undefined;
  readonly published: string;
}

export interface PinReport {
  readonly ref: string;
  readonly file: string;
  readonly repository: string;
  readonly tag: string;
  /** undefined when nothing is published under the tag */
  readonly index: string | undefined;
  readonly platforms: Partial<Record<Platform, string>>;
  readonly findings: readonly PinFinding[];
  /** fields rewritten in the file (empty in --check mode or when nothing changed) */
  readonly changed: readonly PinField[];
}

const FIELD_PATH: Record<PinField, readonly string[]> = {
  amd64: ['image', 'platforms', 'amd64'],
  arm64: ['image', 'platforms', 'arm64'],
  index: ['image', 'index'],
};

async function yamlFiles(dir: string, rel: string[] = []): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(join(dir, ...rel), { withFileTypes: true });
  } catch (err) {
    throw new WorldloopError(
      'ERR_REGISTRY_INVALID',
      `registry folder ${dir} cannot be read (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.isDirectory()) out.push(...(await yamlFiles(dir, [...rel, e.name])));
    else if (/\.ya?ml$/.test(e.name)) out.push(join(dir, ...rel, e.name));
  }
  return out;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The pin-relevant fields of every registry entry, read leniently (tags are reported, not rejected). */
export async function readPinnedStates(registryDir: string): Promise<PinnedState[]> {
  const states: PinnedState[] = [];
  const root = join(registryDir, '..');
  for (const absFile of await yamlFiles(registryDir)) {
    const file = relative(root, absFile).split('\\').join('/');
    const doc = parseDocument(await readFile(absFile, 'utf8'));
    if (doc.errors.length > 0) {
      throw new WorldloopError('ERR_REGISTRY_INVALID', `${file}: ${doc.errors[0]!.message.split('\n')[0]}`);
    }
    const data: unknown = doc.toJS();
    const items = Array.isArray(data) ? data : [data];
    items.forEach((item, i) => {
      const e = (item ?? {}) as {
        ref?: unknown;
        image?: { repository?: unknown; platforms?: unknown; index?: unknown };
      };
      const ref = str(e.ref);
      const repository = str(e.image?.repository);
      if (!ref || !repository) {
        throw new WorldloopError('ERR_REGISTRY_INVALID', `${file}: an entry lacks ref or image.repository`);
      }
      const platforms = (e.image?.platforms ?? {}) as Record<string, unknown>;
      states.push({
        ref,
        file,
        absFile,
        listIndex: Array.isArray(data) ? i : null,
        repository,
        platforms: { amd64: str(platforms.amd64), arm64: str(platforms.arm64) },
        index: str(e.image?.index),
      });
    });
  }
  return states.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}

/** How a current pin compares to what is published. */
export function classify(state: PinnedState, field: PinField, published: string): PinStatus {
  const current = field === 'index' ? state.index : state.platforms[field];
  if (current === undefined) return 'missing';
  const want = field === 'index' ? published : `${state.repository}@${published}`;
  if (current === want) return 'ok';
  const digest = field === 'index' ? current : digestOfRef(current);
  if (!digest || !isDigest(digest)) return 'tag';
  if (field !== 'index' && !current.startsWith(`${state.repository}@`)) return 'foreign';
  return 'stale';
}

/** Tags or non-digest values anywhere in the pins (what staging and production refuse outright). */
export function tagPins(state: PinnedState): PinField[] {
  const out: PinField[] = [];
  for (const p of REQUIRED_PLATFORMS) {
    const v = state.platforms[p];
    if (v !== undefined && digestOfRef(v) === undefined) out.push(p);
  }
  if (state.index !== undefined && !isDigest(state.index)) out.push('index');
  return out;
}

/** Reads the published index behind the entry's tag and asserts both platforms (ERR_PLATFORM_MISSING). */
export async function readPublished(
  client: OciClient,
  repository: string,
  tag: string,
): Promise<{ index: string; platforms: Record<Platform, string> }> {
  const digest = await client.headManifest(repository, tag);
  if (!digest) {
    throw new WorldloopError(
      'ERR_IMAGE_UNPINNED',
      `nothing is published at ${repository}:${tag}; run \`worldloop build --push\` first`,
    );
  }
  const index = await client.getManifest(repository, digest);
  const found = await assertIndexPlatforms(client, repository, index);
  return { index: index.digest, platforms: { amd64: found.platforms.amd64!, arm64: found.platforms.arm64! } };
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function rangeOf(node: unknown): [number, number] | undefined {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return r ? [r[0], r[1]] : undefined;
}

function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/**
 * Text edits that set the pin fields of one entry, touching only those fields' characters: a present
 * scalar is replaced in place; a `platforms` mapping that lacks a key (or is written `{}`) is rewritten
 * as a block mapping; a missing `index` is inserted after `platforms`. Undefined when the entry's shape
 * is unusual (no platforms key, …); the caller then falls back to re-serialising the document.
 */
function pinEdits(
  doc: Document,
  text: string,
  prefix: readonly (string | number)[],
  want: Partial<Record<PinField, string>>,
): Edit[] | undefined {
  const edits: Edit[] = [];
  const image: unknown = doc.getIn([...prefix, 'image'], true);
  if (!isMap(image)) return undefined;
  const platformsPair = image.items.find((p) => isScalar(p.key) && p.key.value === 'platforms');
  if (!platformsPair || !isScalar(platformsPair.key)) return undefined;
  const platforms = platformsPair.value;
  const keyStart = rangeOf(platformsPair.key)![0];
  const indent = ' '.repeat(column(text, keyStart));
  const scalarAt = (map: unknown, key: string): Scalar | undefined => {
    if (!isMap(map)) return undefined;
    const v = map.items.find((p) => isScalar(p.key) && p.key.value === key)?.value;
    return isScalar(v) ? v : undefined;
  };
  const arches = ['amd64', 'arm64'] as const;
  let platformsEnd: number;
  if (isMap(platforms) && !platforms.flow && arches.every((a) => scalarAt(platforms, a))) {
    for (const a of arches) {
      const node = scalarAt(platforms, a)!;
      if (want[a] !== undefined) edits.push({ start: rangeOf(node)![0], end: rangeOf(node)![1], text: want[a]! });
    }
    platformsEnd = Math.max(...arches.map((a) => rangeOf(scalarAt(platforms, a))![1]));
  } else if (isMap(platforms) || platforms === null || (isScalar(platforms) && platforms.value === null)) {
    const values = arches.map((a) => [a, want[a] ?? String(scalarAt(platforms, a)?.value ?? '')] as const);
    if (values.some(([, v]) => v === '')) return undefined;
    const childIndent = `${indent}  `;
    const block = values.map(([a, v]) => `\n${childIndent}${a}: ${v}`).join('');
    const r = platforms ? rangeOf(platforms) : undefined;
    let start = r ? r[0] : rangeOf(platformsPair.key)![1] + 1;
    let end = r ? r[1] : start;
    if (isMap(platforms) && !platforms.flow) {
      // a block mapping starts at its first key: rewrite from the end of `platforms:`
      start = text.indexOf(':', rangeOf(platformsPair.key)![1]) + 1;
      end = Math.max(...platforms.items.map((p) => rangeOf(p.value)?.[1] ?? rangeOf(p.key)![1]));
    } else {
      while (start > 0 && text[start - 1] === ' ') start--;
    }
    while (end > start && /[ \t\r\n]/.test(text[end - 1]!)) end--;
    edits.push({ start, end, text: block });
    platformsEnd = end;
  } else {
    return undefined;
  }
  if (want.index !== undefined) {
    const node = scalarAt(image, 'index');
    if (node) edits.push({ start: rangeOf(node)![0], end: rangeOf(node)![1], text: want.index });
    else edits.push({ start: platformsEnd, end: platformsEnd, text: `\n${indent}index: ${want.index}` });
  }
  return edits;
}

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** Rewrites one registry file's pins; returns the new text (equal to `text` when nothing changed). */
export function rewritePins(
  text: string,
  changes: readonly { listIndex: number | null; want: Partial<Record<PinField, string>> }[],
): string {
  const doc = parseDocument(text);
  const expected = parseDocument(text);
  const edits: Edit[] = [];
  let surgical = true;
  for (const c of changes) {
    const prefix = c.listIndex === null ? [] : [c.listIndex];
    for (const [field, value] of Object.entries(c.want) as [PinField, string][]) {
      if (field !== 'index') {
        const node: unknown = expected.getIn([...prefix, 'image', 'platforms'], true);
        if (isMap(node) && node.flow) node.flow = false;
      }
      expected.setIn([...prefix, ...FIELD_PATH[field]], value);
    }
    const e = pinEdits(doc, text, prefix, c.want);
    if (!e) surgical = false;
    else edits.push(...e);
  }
  if (surgical) {
    const out = applyEdits(text, edits);
    // The splice must mean exactly what the Document API would have written; otherwise fall back.
    if (JSON.stringify(parseDocument(out).toJS()) === JSON.stringify(expected.toJS())) return out;
  }
  return expected.toString({ lineWidth: 0, flowCollectionPadding: false });
}

export interface PinOptions {
  readonly registryDir: string;
  readonly client: OciClient;
  /** Only these refs (default: every entry). */
  readonly refs?: readonly string[];
  /** Compare only; never write. */
  readonly check?: boolean;
  readonly profile?: Profile;
}

/**
 * Pins every entry to what is published under its `v<major>` tag. In check mode nothing is written; the
 * caller fails on pinProblems(reports). Staging and production refuse a tag anywhere before any lookup.
 */
export async function pinRegistry(options: PinOptions): Promise<PinReport[]> {
  const profile = options.profile ?? 'production';
  let states = await readPinnedStates(options.registryDir);
  if (options.refs && options.refs.length > 0) {
    const known = new Set(states.map((s) => s.ref));
    const unknown = options.refs.filter((r) => !known.has(r));
    if (unknown.length > 0)
      throw new WorldloopError('ERR_UNKNOWN_PROCESSOR', `${unknown.join(', ')} not in the registry`);
    states = states.filter((s) => options.refs!.includes(s.ref));
  }
  if (profile !== 'dev') {
    const tags = states.flatMap((s) =>
      tagPins(s).map((f) => `${s.file} ${s.ref} image.${FIELD_PATH[f].slice(1).join('.')}`),
    );
    if (tags.length > 0 && options.check) {
      throw new WorldloopError('ERR_IMAGE_UNPINNED', `the ${profile} profile refuses tags: ${tags.join('; ')}`);
    }
  }
  const reports: PinReport[] = [];
  const pending = new Map<string, { listIndex: number | null; want: Partial<Record<PinField, string>> }[]>();
  for (const state of states) {
    const tag = majorTag(state.ref);
    let published: { index: string; platforms: Record<Platform, string> } | undefined;
    try {
      published = await readPublished(options.client, state.repository, tag);
    } catch (err) {
      // One unbuilt processor must not stop the others from being pinned; it is reported instead.
      if (!(err instanceof WorldloopError) || err.code !== 'ERR_IMAGE_UNPINNED') throw err;
    }
    const findings: PinFinding[] = (['amd64', 'arm64', 'index'] as const).map((field) => {
      const current = field === 'index' ? state.index : state.platforms[field];
      if (!published) {
        return {
          ref: state.ref,
          file: state.file,
          field,
          status: 'unpublished',
          current,
          published: `${state.repository}:${tag}`,
        };
      }
      const pub = field === 'index' ? published.index : published.platforms[field];
      return {
        ref: state.ref,
        file: state.file,
        field,
        status: classify(state, field, pub),
        current,
        published: field === 'index' ? pub : `${state.repository}@${pub}`,
      };
    });
    const changed: PinField[] = [];
    if (!options.check) {
      const want: Partial<Record<PinField, string>> = {};
      for (const f of findings) {
        if (f.status === 'ok' || f.status === 'unpublished') continue;
        want[f.field] = f.published;
        changed.push(f.field);
      }
      if (changed.length > 0) {
        const list = pending.get(state.absFile) ?? [];
        list.push({ listIndex: state.listIndex, want });
        pending.set(state.absFile, list);
      }
    }
    reports.push({
      ref: state.ref,
      file: state.file,
      repository: state.repository,
      tag,
      index: published?.index,
      platforms: published?.platforms ?? {},
      findings,
      changed,
    });
  }
  for (const [absFile, changes] of pending) {
    const text = await readFile(absFile, 'utf8');
    const out = rewritePins(text, changes);
    if (out !== text) await writeFile(absFile, out);
  }
  return reports;
}

/**
 * Findings that fail `pin --check` under a profile: anything not ok, except a tag under dev. Without
 * --check only `unpublished` fails (the pins could not all be written).
 */
export function pinProblems(
  reports: readonly PinReport[],
  profile: Profile = 'production',
  check = true,
): PinFinding[] {
  return reports.flatMap((r) =>
    r.findings.filter((f) =>
      check ? f.status !== 'ok' && !(f.status === 'tag' && profile === 'dev') : f.status === 'unpublished',
    ),
  );
}

export function describeFinding(f: PinFinding): string {
  return `${f.file} ${f.ref} ${f.field}: ${f.status} (pinned ${f.current ?? 'nothing'}, published ${f.published})`;
}
