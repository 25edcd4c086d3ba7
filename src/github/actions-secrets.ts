// GitHub Actions secrets of a repository or of one of its environments: names (GitHub never returns values)
// and create-or-update, each value sealed (libsodium sealed box, X25519) with the public key GitHub hands out
// for that scope — the encryption GitHub's REST documentation prescribes. Values exist here only on their way
// into the sealed box.
import sodium from 'libsodium-wrappers';
import type { GitHubRepo } from './client';

/** Seals `value` for the scope's base64 public key; returns the base64 ciphertext GitHub expects. */
export async function sealForGitHub(publicKeyBase64: string, value: string): Promise<string> {
  await sodium.ready;
  const key = sodium.from_base64(publicKeyBase64, sodium.base64_variants.ORIGINAL);
  return sodium.to_base64(sodium.crypto_box_seal(sodium.from_string(value), key), sodium.base64_variants.ORIGINAL);
}

export interface ActionsSecretScope {
  readonly gh: GitHubRepo;
  /** A deployment environment's secrets; undefined for the repository's. */
  readonly environment?: string;
}

function where(scope: ActionsSecretScope): string {
  return scope.environment === undefined ? 'repository secrets' : `environment ${scope.environment} secrets`;
}

export async function actionsSecretNames(scope: ActionsSecretScope): Promise<Set<string>> {
  const { gh, environment } = scope;
  const { owner, repo } = gh;
  const names = new Set<string>();
  for (let page = 1; page <= 50; page++) {
    const res = await gh.call(`list ${where(scope)}`, (o) =>
      environment === undefined
        ? o.rest.actions.listRepoSecrets({ owner, repo, per_page: 100, page })
        : o.rest.actions.listEnvironmentSecrets({ owner, repo, environment_name: environment, per_page: 100, page }),
    );
    for (const s of res.data.secrets) names.add(s.name);
    if (res.data.secrets.length < 100) break;
  }
  return names;
}

/** Creates or updates one secret. The public key is fetched per call: GitHub may rotate it. */
export async function putActionsSecret(scope: ActionsSecretScope, name: string, value: string): Promise<void> {
  const { gh, environment } = scope;
  const { owner, repo } = gh;
  const key = await gh.call(`get the public key of ${where(scope)}`, (o) =>
    environment === undefined
      ? o.rest.actions.getRepoPublicKey({ owner, repo })
      : o.rest.actions.getEnvironmentPublicKey({ owner, repo, environment_name: environment }),
  );
  const encrypted_value = await sealForGitHub(key.data.key, value);
  await gh.call(`write ${name} to ${where(scope)}`, (o) =>
    environment === undefined
      ? o.rest.actions.createOrUpdateRepoSecret({
          owner,
          repo,
          secret_name: name,
          encrypted_value,
          key_id: key.data.key_id,
        })
      : o.rest.actions.createOrUpdateEnvironmentSecret({
          owner,
          repo,
          environment_name: environment,
          secret_name: name,
          encrypted_value,
          key_id: key.data.key_id,
        }),
  );
}
