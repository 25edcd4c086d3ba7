// Image references, parsed in one place: `[<registry>/]<path>[:tag][@sha256:<hex>]`. The OCI client needs the
// registry host named (worldloop never implies Docker Hub); a pin needs the digest and no tag; the Docker
// adapter also takes a pinned reference without a host (Docker resolves it). One total parser underneath,
// and thin wrappers that choose the error code their caller's contract names.
import { createHash } from 'node:crypto';
import { WorldloopError } from '../contracts/errors';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
// A DNS name or IPv4 address, with an optional port. Lower case only, as the registry schema requires.
const HOST_RE = /^(localhost|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(:[0-9]{1,5})?$/;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface ImageRef {
  /** host[:port], or undefined when the reference names no registry */
  readonly registry: string | undefined;
  /** repository path inside the registry, e.g. worldloop/worldloop/text-stats */
  readonly path: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

/** A reference whose registry host is named: what the OCI client talks to. */
export interface RegistryImageRef extends ImageRef {
  readonly registry: string;
}

/** `<repository>@sha256:<hex>` with no tag: what the registry pins and the adapters run. */
export interface PinnedImageRef extends ImageRef {
  readonly digest: string;
  readonly tag: undefined;
  /** `[<registry>/]<path>`, as written */
  readonly repository: string;
}

export type ImageRefResult =
  { readonly ok: true; readonly ref: ImageRef } | { readonly ok: false; readonly why: string };

export function isDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Docker's rule for the first path segment: it names a registry only when it looks like a host — it has a
 * dot or a port, or is `localhost` — so `library/busybox` is a path and `ghcr.io/o/r` is not.
 */
export function isRegistryHost(segment: string): boolean {
  return HOST_RE.test(segment) && (segment.includes('.') || segment.includes(':') || segment === 'localhost');
}

/** localhost or 127.0.0.0/8, with or without a port: hosts reached over plain http. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:[0-9]+$/, '');
  return name === 'localhost' || /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(name);
}

/** The total parser: never throws; says why a reference is not one. */
export function parseImageReference(input: string): ImageRefResult {
  const fail = (why: string): ImageRefResult => ({ ok: false, why });
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) return fail('the digest must be sha256:<64 lower-case hex>');
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const registry = isRegistryHost(first) ? first : undefined;
  let path = registry === undefined ? rest : rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG_RE.test(tag)) return fail(`tag ${JSON.stringify(tag)} is not valid`);
  }
  if (path.length === 0 || path.length > 255) return fail('the repository path is empty or too long');
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) return fail(`path component ${JSON.stringify(component)} is not valid`);
  }
  return { ok: true, ref: { registry, path, tag, digest } };
}

/** Parses a reference whose registry host is named (no Docker Hub default); ERR_OCI otherwise. */
export function parseImageRef(input: string): RegistryImageRef {
  const bad = (why: string): WorldloopError =>
    new WorldloopError('ERR_OCI', `bad image reference ${JSON.stringify(input.slice(0, 300))}: ${why}`);
  const parsed = parseImageReference(input);
  if (!parsed.ok) throw bad(parsed.why);
  const { registry } = parsed.ref;
  if (registry === undefined) {
    const slash = input.indexOf('/');
    if (slash < 0) throw bad('expected <registry>/<path>');
    throw bad(
      `${JSON.stringify(input.slice(0, slash))} is not a registry host (name it explicitly, e.g. ghcr.io or 127.0.0.1:5000)`,
    );
  }
  return { ...parsed.ref, registry };
}

/** A repository (registry host and path, no tag, no digest); ERR_OCI otherwise. */
export function parseRepository(input: string): RegistryImageRef {
  const ref = parseImageRef(input);
  if (ref.tag || ref.digest) {
    throw new WorldloopError('ERR_OCI', `expected a repository without tag or digest, got ${JSON.stringify(input)}`);
  }
  return ref;
}

/**
 * Why `input` is not `<repository>@sha256:<64 hex>` without a tag, or undefined when it is. The wording
 * tells a tag (`repo:v1`) apart from anything else.
 */
export function pinnedImageProblem(input: string): string | undefined {
  const parsed = parseImageReference(input);
  if (parsed.ok && parsed.ref.digest !== undefined && parsed.ref.tag === undefined) return undefined;
  if (parsed.ok && parsed.ref.digest !== undefined) {
    return `${JSON.stringify(input)} carries a tag beside its digest; use the digest only`;
  }
  if (parsed.ok && parsed.ref.tag !== undefined) {
    return `${JSON.stringify(input)} is a tag; pins must be digests (<repository>@sha256:<64 hex>)`;
  }
  return `${JSON.stringify(input.slice(0, 300))} is not <repository>@sha256:<64 hex>`;
}

/** A pinned reference (registry host optional); ERR_IMAGE_UNPINNED otherwise. */
export function parsePinnedImageRef(input: string): PinnedImageRef {
  const why = pinnedImageProblem(input);
  if (why) throw new WorldloopError('ERR_IMAGE_UNPINNED', `image ${why}`);
  const parsed = parseImageReference(input) as { ok: true; ref: ImageRef & { digest: string } };
  const repository = input.slice(0, input.indexOf('@'));
  return { ...parsed.ref, tag: undefined, repository };
}

/** `[<registry>/]<path>` */
export function repositoryOf(ref: ImageRef): string {
  return ref.registry === undefined ? ref.path : `${ref.registry}/${ref.path}`;
}

export function formatImageRef(ref: ImageRef): string {
  return `${repositoryOf(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The digest of a reference that has one (`…@sha256:<hex>`, tag or not), else undefined. */
export function digestOfRef(input: string): string | undefined {
  const parsed = parseImageReference(input);
  return parsed.ok ? parsed.ref.digest : undefined;
}
