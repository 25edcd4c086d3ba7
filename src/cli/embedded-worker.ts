// What `worldloop run` needs to be its own worker when none polls the task queue: a quiet SDK runtime,
// a file logger (the terminal belongs to the run's display) and the default plan on first use.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { MICRO_PER_USD } from '../contracts/schemas';
import { createLogger } from '../log';
import { WORLDLOOP_VERSION } from '../temporal/worker';
import { openWorld } from '../world';
import { DEFAULT_PLAN, DEFAULT_PLAN_BUDGET_USD } from './run-request';

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

/** Creates the default plan the first time a run charges it, and says so. */
export async function ensureDefaultPlan(cfg: Config, plan: string): Promise<void> {
  if (plan !== DEFAULT_PLAN) return;
  const { ledger: plans } = openWorld(cfg);
  try {
    await plans.getPlan(plan);
  } catch (err) {
    if (!(err instanceof WorldloopError && err.code === 'ERR_PLAN_NOT_FOUND')) throw err;
    await plans.createPlan(plan, DEFAULT_PLAN_BUDGET_USD * MICRO_PER_USD);
    process.stderr.write(
      `created plan "${plan}" with a budget of $${DEFAULT_PLAN_BUDGET_USD} (see \`worldloop plan show ${plan}\`)\n`,
    );
  }
}
