// Where credentials may go (issue 14, item 7). The Authorization header (Basic credentials or a bearer token
// for the registry) is sent only to the registry's own origin — a `Link: rel="next"`, an upload `Location`
// or a challenge from any other host gets no credentials, as fetch already does for cross-origin redirects.
// The token realm a registry names may be another host (Docker Hub's is), so it receives the Basic
// credentials only over https, or over plain http when both it and the registry are on loopback (tests).
import { WorldloopError } from '../contracts/errors';
import { isLoopbackHost } from './image-ref';

export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

/** `http://host` for a loopback registry, `https://host` otherwise: the only origin that gets credentials. */
export function registryOrigin(registry: string): string {
  return new URL(`${isLoopbackHost(registry) ? 'http' : 'https'}://${registry}`).origin;
}

/** True when `url` is on the registry's own origin (scheme, host and port). */
export function isRegistryOrigin(url: string, registry: string): boolean {
  return new URL(url).origin === registryOrigin(registry);
}

/** The token endpoint to ask, or ERR_OCI_INSECURE_REALM when credentials would cross a network in clear. */
export function tokenRealmUrl(realm: string, registry: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new WorldloopError('ERR_OCI', `registry ${registry} named a token realm that is not a URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.host) && isLoopbackHost(registry)) return url;
  throw new WorldloopError(
    'ERR_OCI_INSECURE_REALM',
    `registry ${registry} asks for a token from ${url.origin}; credentials go to a token service only over https`,
  );
}
