// The two secret stores secret sync writes to, behind one small interface: GitHub Actions (repository or
// environment secrets, through src/github) and Modal (one named secret per name, holding that one key, so a
// processor's secret is `secrets.fromName("<NAME>")` in Modal as it is `secrets.<NAME>` in Actions).
// Neither store returns values, so a target only lists names and writes.
import type { ModalClient } from 'modal';
import { WorldloopError } from '../contracts/errors';
import { actionsSecretNames, putActionsSecret } from '../github/actions-secrets';
import type { GitHubRepo } from '../github/client';

export interface SecretTarget {
  /** Stable identity of the store (target, repository or workspace, environment): keys the sync record. */
  readonly key: string;
  /** For messages: "github acme/worlds environment dev". */
  readonly label: string;
  names(): Promise<Set<string>>;
  put(name: string, value: string): Promise<void>;
}

export function githubSecretTarget(gh: GitHubRepo, environment?: string): SecretTarget {
  const scope = { gh, environment };
  const env = environment === undefined ? '' : ` environment ${environment}`;
  return {
    key: `github-${gh.owner}-${gh.repo}${environment === undefined ? '' : `-env-${environment}`}`,
    label: `github ${gh.owner}/${gh.repo}${env}`,
    names: () => actionsSecretNames(scope),
    put: (name, value) => putActionsSecret(scope, name, value),
  };
}

// modal's ObjectCreationType: look up (0), or create and overwrite what exists (3).
const CREATE_OVERWRITE_IF_EXISTS = 3;

export function modalSecretTarget(client: ModalClient, environment: string | undefined): SecretTarget {
  const env = environment ?? '';
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      // gRPC messages name the call and the status, never the request (which carries the value).
      const e = error as { code?: unknown; details?: string; message?: string };
      throw new WorldloopError(
        'ERR_SECRET_TARGET',
        `modal ${what}: ${String(e.details ?? e.message ?? error)
          .split('\n')[0]!
          .slice(0, 200)}`,
      );
    }
  };
  return {
    key: `modal-${env || 'default'}`,
    label: `modal${env ? ` environment ${env}` : ''}`,
    async names() {
      const res = await call('list secrets', () => client.cpClient.secretList({ environmentName: env }));
      return new Set(res.items.map((i) => i.label || i.metadata?.name || '').filter((n) => n !== ''));
    },
    async put(name, value) {
      await call(`write ${name}`, () =>
        client.cpClient.secretGetOrCreate({
          deploymentName: name,
          environmentName: env,
          objectCreationType: CREATE_OVERWRITE_IF_EXISTS,
          envDict: { [name]: value },
          appId: '',
          requiredKeys: [],
        }),
      );
    },
  };
}
