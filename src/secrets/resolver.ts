// The one secret resolver of docs/architecture.md §9: by name, from the environment first and then from a secrets
// folder (/run/secrets/<NAME>, the Docker/Kubernetes/Modal mount convention). Three refusals come before
// any lookup: mock mode (mock never reads a secret), a malformed name, a name not on the allow-list.
// Every value handed out is registered with the log redactor before the caller sees it.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WorldloopError } from '../contracts/errors';
import { SecretNameSchema, type Mode } from '../contracts/schemas';
import { defaultRedactor, type Redactor } from '../log/redactor';

export interface SecretResolver {
  /** Names only: true when the secret is set (env var or file), without reading/returning the value. Refuses in mock mode. */
  has(name: string): boolean;
  /** Throws ERR_MISSING_SECRET listing every missing name (sorted); refuses in mock mode. */
  requireAll(names: readonly string[]): void;
  /** Reads the value (env first, then <secretsDir>/<NAME>; trims one trailing newline from files), registers it with the redactor, returns it. */
  resolve(name: string): string;
}

export interface SecretResolverOptions {
  mode: Mode;
  /** From loadAllowList(config().secretsAllowFile). */
  allow: ReadonlySet<string>;
  /** config().secretEnv; never process.env directly (only src/config.ts reads it). */
  env: Readonly<Record<string, string | undefined>>;
  /** config().secretsDir. */
  secretsDir: string;
  /** Defaults to the process-wide redactor every logger uses. */
  redactor?: Redactor;
}

export function createSecretResolver(options: SecretResolverOptions): SecretResolver {
  const { mode, allow, env, secretsDir } = options;
  const redactor = options.redactor ?? defaultRedactor;

  // All refusals happen before the environment or the folder is touched.
  const admit = (names: readonly string[]): void => {
    if (mode === 'mock') {
      throw new WorldloopError(
        'ERR_SECRET_NOT_ALLOWED',
        `mock mode never reads secrets (asked for ${names.map(printable).join(', ') || 'nothing'})`,
      );
    }
    const malformed = names.filter((name) => !SecretNameSchema.safeParse(name).success);
    if (malformed.length > 0) {
      throw new WorldloopError(
        'ERR_SECRET_NOT_ALLOWED',
        `${malformed.map(printable).join(', ')}: not a secret name (upper-case letters, digits and _ only)`,
      );
    }
    const unlisted = [...new Set(names.filter((name) => !allow.has(name)))].sort();
    if (unlisted.length > 0) {
      throw new WorldloopError('ERR_SECRET_NOT_ALLOWED', `not on the allow-list: ${unlisted.join(', ')}`);
    }
  };

  const fileOf = (name: string): string => join(secretsDir, name);

  // Follows symlinks on purpose: Kubernetes mounts secrets as links into a ..data folder.
  const fileIsSet = (name: string): boolean => {
    try {
      const stat = statSync(fileOf(name));
      return stat.isFile() && stat.size > 0;
    } catch {
      return false;
    }
  };

  // An empty variable is treated as unset: an empty credential is never what the operator meant.
  const envValue = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  const has = (name: string): boolean => envValue(name) !== undefined || fileIsSet(name);

  return {
    has(name) {
      admit([name]);
      return has(name);
    },

    requireAll(names) {
      admit(names);
      const missing = [...new Set(names.filter((name) => !has(name)))].sort();
      if (missing.length > 0) {
        throw new WorldloopError(
          'ERR_MISSING_SECRET',
          `missing: ${missing.join(', ')} (looked in the environment and in ${secretsDir})`,
        );
      }
    },

    resolve(name) {
      admit([name]);
      const value = envValue(name) ?? readSecretFile(name, fileOf(name), secretsDir);
      try {
        redactor.register(value);
      } catch (error) {
        // Never hand out a value the logs could not hide; name the variable so the operator can fix it.
        if (error instanceof WorldloopError) throw new WorldloopError(error.code, `${name}: ${error.detail}`);
        throw error;
      }
      return value;
    },
  };
}

function readSecretFile(name: string, file: string, secretsDir: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? '' : ` (${code ?? 'unreadable'})`;
    throw new WorldloopError(
      'ERR_MISSING_SECRET',
      `missing: ${name}${why} (looked in the environment and in ${secretsDir})`,
    );
  }
  // Files written by `echo` or an editor end in a newline that is not part of the secret; exactly one is
  // removed so that a value which really ends in whitespace is otherwise kept as written.
  const value = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  if (value === '') {
    throw new WorldloopError('ERR_MISSING_SECRET', `missing: ${name} (the file ${file} is empty)`);
  }
  return value;
}

// Names that fail validation come from callers, not users, but may still be odd: quote and shorten them.
function printable(name: string): string {
  return SecretNameSchema.safeParse(name).success ? name : JSON.stringify(name.slice(0, 40));
}
