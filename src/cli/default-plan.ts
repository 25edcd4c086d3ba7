// The default plan, created the first time a run charges it (so the README's first `run` just works).
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { MICRO_PER_USD } from '../contracts/schemas';
import { openWorld } from '../world';
import { DEFAULT_PLAN, DEFAULT_PLAN_BUDGET_USD } from './run-request';

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
