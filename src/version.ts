// worldloop's own version (receipts' `worldloop_version`, log context, `--version`), read from package.json
// once, when this module loads, so every caller reports the same value.
import { readFileSync } from 'node:fs';
import { WorldloopError } from './contracts/errors';

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || pkg.version === '') {
    throw new WorldloopError(
      'ERR_INVARIANT',
      'package.json has no "version"; receipts could not say which worldloop wrote them',
    );
  }
  return pkg.version;
}

export const WORLDLOOP_VERSION: string = readVersion();
