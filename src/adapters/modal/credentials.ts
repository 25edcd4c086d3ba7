// Where the Modal adapter's own credentials come from (issue 8): MODAL_TOKEN_ID and MODAL_TOKEN_SECRET from
// the environment (read in src/config.ts), else the active (or MODAL_PROFILE) profile of the TOML profile
// file Modal's CLI writes. Resolved before the first network call, so a machine with no credentials at all
// fails with ERR_ADAPTER_AUTH instead of an SDK error from deep inside a run.
//
// These are the adapter's configuration, never processor secrets: they are handed to the ModalClient and
// nowhere else — not to the secret resolver, not to logs, envelopes, receipts or workflow history.
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { WorldloopError } from '../../contracts/errors';
import type { Config } from '../../config';

export interface ModalCredentials {
  readonly tokenId: string;
  readonly tokenSecret: string;
  /** Where they came from, for `doctor`-style reports (never the values). */
  readonly source: 'environment' | `profile ${string}`;
}

type ModalConfig = Config['modal'];

function missing(detail: string): WorldloopError {
  return new WorldloopError('ERR_ADAPTER_AUTH', detail);
}

/** Reads the profile file; undefined when there is none. */
function readProfileFile(path: string, read: (p: string) => string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw missing(`cannot read the Modal profile file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch {
    // The parser's message can quote a line of the file, which may hold a token: say only where.
    throw new WorldloopError('ERR_CONFIG_INVALID', `the Modal profile file ${path} is not valid TOML`);
  }
}

export function resolveModalCredentials(
  cfg: ModalConfig,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ModalCredentials {
  if (cfg.tokenId !== undefined || cfg.tokenSecret !== undefined) {
    if (cfg.tokenId === undefined) throw missing('MODAL_TOKEN_SECRET is set but MODAL_TOKEN_ID is not');
    if (cfg.tokenSecret === undefined) throw missing('MODAL_TOKEN_ID is set but MODAL_TOKEN_SECRET is not');
    return { tokenId: cfg.tokenId, tokenSecret: cfg.tokenSecret, source: 'environment' };
  }
  const file = readProfileFile(cfg.configPath, read);
  if (file === undefined) {
    throw missing(
      `no Modal credentials: MODAL_TOKEN_ID/MODAL_TOKEN_SECRET are unset and ${cfg.configPath} does not exist`,
    );
  }
  const profiles = Object.entries(file).filter(
    (entry): entry is [string, Record<string, unknown>] => typeof entry[1] === 'object' && entry[1] !== null,
  );
  const chosen =
    cfg.profile !== undefined
      ? profiles.find(([name]) => name === cfg.profile)
      : profiles.find(([, p]) => p.active === true);
  if (!chosen) {
    throw missing(
      cfg.profile !== undefined
        ? `MODAL_PROFILE=${cfg.profile} is not a profile in ${cfg.configPath}`
        : `no active profile in ${cfg.configPath} (set MODAL_PROFILE or run \`modal profile activate\`)`,
    );
  }
  const [name, p] = chosen;
  if (typeof p.token_id !== 'string' || typeof p.token_secret !== 'string' || !p.token_id || !p.token_secret) {
    throw missing(`profile ${name} in ${cfg.configPath} has no token_id and token_secret`);
  }
  return { tokenId: p.token_id, tokenSecret: p.token_secret, source: `profile ${name}` };
}
