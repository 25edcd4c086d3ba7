// The container's command line, exactly as the Docker adapter writes it (docs/architecture.md §7):
//   --inputs @/work/inputs.json --write-prefix <world prefix> --execution-id <uuid> --mode mock|real --out /work/out
// Parsing is strict: an unknown flag, a repeated flag or a missing value is ERR_USAGE (exit 2), because a
// typo here would otherwise run a processor with defaults nobody asked for.
import { WorldloopError } from '../contracts/errors';

export interface KitArgs {
  /** `@<file>` or inline JSON text, as given. */
  readonly inputs: string;
  readonly writePrefix: string;
  readonly executionId: string;
  /** Unvalidated; resolveMode decides. */
  readonly mode: string;
  readonly out: string;
  /** Optional non-secret settings file; defaults to `config.json` beside the inputs file. */
  readonly config: string | undefined;
}

const FLAGS = {
  '--inputs': 'inputs',
  '--write-prefix': 'writePrefix',
  '--execution-id': 'executionId',
  '--mode': 'mode',
  '--out': 'out',
  '--config': 'config',
} as const satisfies Record<string, keyof KitArgs>;

type Flag = keyof typeof FLAGS;
const REQUIRED: readonly Flag[] = ['--inputs', '--write-prefix', '--execution-id', '--mode', '--out'];

function isFlag(value: string): value is Flag {
  return Object.hasOwn(FLAGS, value);
}

export function parseKitArgs(argv: readonly string[]): KitArgs {
  const seen = new Map<Flag, string>();
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    // Both `--flag value` and `--flag=value`; nothing positional.
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const name = eq === -1 ? raw : raw.slice(0, eq);
    if (!isFlag(name)) {
      throw new WorldloopError('ERR_USAGE', `unknown argument ${JSON.stringify(raw.slice(0, 40))}`);
    }
    if (seen.has(name)) throw new WorldloopError('ERR_USAGE', `${name} given more than once`);
    let value: string | undefined;
    if (eq !== -1) {
      value = raw.slice(eq + 1);
    } else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value === '' || (eq === -1 && value.startsWith('--'))) {
      throw new WorldloopError('ERR_USAGE', `${name} needs a value`);
    }
    seen.set(name, value);
  }
  const missing = REQUIRED.filter((f) => !seen.has(f));
  if (missing.length > 0) throw new WorldloopError('ERR_USAGE', `missing ${missing.join(', ')}`);
  return {
    inputs: seen.get('--inputs')!,
    writePrefix: seen.get('--write-prefix')!,
    executionId: seen.get('--execution-id')!,
    mode: seen.get('--mode')!,
    out: seen.get('--out')!,
    config: seen.get('--config'),
  };
}
