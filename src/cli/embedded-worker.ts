// What `worldloop run` needs to be its own worker (`--embedded-worker`, or a configured cluster nobody serves): a
// quiet SDK runtime and a file logger (the terminal belongs to the run's display).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config';
import { createLogger } from '../log';
import { WORLDLOOP_VERSION } from '../temporal/worker';

export const logFilePath = (cfg: Config) => join(cfg.stateDir, 'logs', 'worldloop.log');

/** `<stateDir>/logs/worldloop.log`: JSON lines, redacted like every worldloop log. */
export function fileLogger(cfg: Config) {
  const file = logFilePath(cfg);
  mkdirSync(dirname(file), { recursive: true });
  return createLogger({
    level: cfg.logLevel,
    context: { version: WORLDLOOP_VERSION },
    destination: createWriteStream(file, { flags: 'a' }),
  });
}

let runtimeInstalled = false;
/** The SDK logs to the console by default; the CLI keeps the terminal for the run itself. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  runtimeInstalled = true;
}
