// Modes and the CI guard (docs/architecture.md §3). Pure on purpose: the CLI calls this before it talks to anything,
// and Admit calls it again on the worker; workflow code may import it too, so it touches no I/O, no
// environment and nothing but the error catalogue (the `Mode` import is erased at compile time).
import { WorldloopError } from './errors';
import type { Mode } from './schemas';

// Spelled out here rather than imported so this module stays dependency-free; the `satisfies` clause and
// the exhaustive switch below fail to compile if schemas.ts ever grows or renames a mode.
const ACCEPTED_MODES = ['mock', 'real'] as const satisfies readonly Mode[];

/** The mode used when neither `--mode` nor `WORLDLOOP_MODE` is given: the one that cannot spend money. */
export const DEFAULT_MODE: Mode = 'mock';

/**
 * Parses a mode setting. Strict on purpose: only the exact strings `mock` and `real` are accepted — no
 * trimming, no case folding — because a mode is a safety switch and `"Real "` is more likely a mistake
 * than an intention. `undefined` (nothing given) means {@link DEFAULT_MODE}; an empty string is an
 * explicit but empty value (e.g. `WORLDLOOP_MODE=`) and is rejected like any other bad value.
 *
 * @throws WorldloopError ERR_MODE_INVALID for anything else.
 */
export function resolveMode(value: unknown): Mode {
  if (value === undefined) return DEFAULT_MODE;
  const accepted: readonly unknown[] = ACCEPTED_MODES;
  if (typeof value === 'string' && accepted.includes(value)) return value as Mode;
  throw new WorldloopError('ERR_MODE_INVALID', `got ${describe(value)}; expected "mock" or "real"`);
}

/**
 * Thrown when real mode is requested while `CI == "true"`: a CI run must never spend money or reach a
 * provider. Raised by the CLI before any adapter runs and again by Admit on the worker.
 */
export class ModeSafetyError extends WorldloopError {
  override readonly name: string = 'ModeSafetyError';

  constructor(detail = 'mode=real is refused while CI=true') {
    super('ERR_CI_SAFETY', detail);
  }
}

/**
 * The CI guard. `ci` must be `CI === "true"` exactly (Config.ci computes it that way); any other value
 * of CI, including `1` or `TRUE`, is not CI for this purpose, matching GitHub Actions' own setting.
 *
 * @throws ModeSafetyError (ERR_CI_SAFETY) when `mode` is `real` and `ci` is true.
 */
export function assertModeSafe(mode: Mode, ci: boolean): void {
  switch (mode) {
    case 'mock':
      return;
    case 'real':
      if (ci) throw new ModeSafetyError();
      return;
    default:
      // A caller that bypassed the type (e.g. a raw string from JSON) gets the input error, not a pass.
      throw new WorldloopError('ERR_MODE_INVALID', `got ${describe(mode satisfies never)}; expected "mock" or "real"`);
  }
}

// Mode values are not secrets, but they come from users: quote them, keep them short and printable.
function describe(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
}
