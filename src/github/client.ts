// The one GitHub REST client of the lanes: @octokit/rest against GITHUB_API_URL (api.github.com, GitHub
// Enterprise, or a loopback fake in tests and under act), for one repository. Every call goes through
// `call`, which turns any failure into ERR_GITHUB_API naming the operation and the HTTP status — never the
// token or a request body (a secret's sealed value travels in one).
import { Octokit } from '@octokit/rest';
import { WorldloopError } from '../contracts/errors';

export interface GitHubSettings {
  readonly token: string | undefined;
  /** owner/name */
  readonly repository: string | undefined;
  readonly apiUrl: string;
}

export interface GitHubRepo {
  readonly octokit: Octokit;
  readonly owner: string;
  readonly repo: string;
  /** Runs one REST call; a failure becomes ERR_GITHUB_API "<what>: HTTP <status> <message>". */
  call<T>(what: string, fn: (octokit: Octokit) => Promise<T>): Promise<T>;
}

const REPOSITORY_RE = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

export function connectGitHub(settings: GitHubSettings): GitHubRepo {
  if (!settings.token) {
    throw new WorldloopError('ERR_CONFIG_INVALID', 'GITHUB_TOKEN is not set (the lanes call the GitHub REST API)');
  }
  const m = REPOSITORY_RE.exec(settings.repository ?? '');
  if (!m) {
    throw new WorldloopError(
      'ERR_CONFIG_INVALID',
      `GITHUB_REPOSITORY ${JSON.stringify((settings.repository ?? '').slice(0, 120))}: expected owner/name`,
    );
  }
  const octokit = new Octokit({
    auth: settings.token,
    baseUrl: settings.apiUrl.replace(/\/+$/, ''),
    userAgent: 'worldloop-lanes',
    // Octokit logs request failures with their URL at warn level; the coded error below says it once.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    request: { retries: 0 },
  });
  return {
    octokit,
    owner: m[1]!,
    repo: m[2]!,
    async call(what, fn) {
      try {
        return await fn(octokit);
      } catch (error) {
        throw new WorldloopError('ERR_GITHUB_API', `${what}: ${describeFailure(error)}`);
      }
    },
  };
}

function describeFailure(error: unknown): string {
  const e = error as { status?: number; message?: string; cause?: { code?: string } };
  if (typeof e.status === 'number') {
    // Octokit's message is GitHub's "message" field; keep it short and on one line.
    const message = (e.message ?? '').split('\n')[0]!.slice(0, 200);
    return `HTTP ${e.status}${message ? ` ${message}` : ''}`;
  }
  return `${e.cause?.code ?? 'request failed'} (${(e.message ?? String(error)).split('\n')[0]!.slice(0, 200)})`;
}
