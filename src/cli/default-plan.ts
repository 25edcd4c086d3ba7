// The default plan, created the first time a run charges it (so the README's first `run` just works).
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { MICRO_PER_USD } from '../contracts/schemas';
import { openWorld } from '../world';
import { DEFAULT_PLAN, DEFAULT_PLAN_BUDGET_USD } from './run-draft';

/**
 * Creates the default plan the first time a run charges it; returns the line telling the user so, or undefined
 * when there was nothing to create. The resident worker calls this for runs through its socket and hands the line
 * to the CLI, which prints it.
 */
export async function createDefaultPlanIfMissing(cfg: Config, plan: string): Promise<string | undefined> {
  if (plan !== DEFAULT_PLAN) return undefined;
  const { ledger: plans } = openWorld(cfg);
  try {
    await plans.getPlan(plan);
    return undefined;
  } catch (err) {
    if (!(err instanceof WorldloopError && err.code === 'ERR_PLAN_NOT_FOUND')) throw err;
    const { created } = await plans.createPlan(plan, DEFAULT_PLAN_BUDGET_USD * MICRO_PER_USD);
    // Two first runs at once both find no plan; only the one that created it says so.
    if (!created) return undefined;
    return `created plan "${plan}" with a budget of $${DEFAULT_PLAN_BUDGET_USD} (see \`worldloop plan show ${plan}\`)\n`;
  }
}

/** Creates the default plan the first time a run charges it, and says so on stderr. */
export async function ensureDefaultPlan(cfg: Config, plan: string): Promise<void> {
  const notice = await createDefaultPlanIfMissing(cfg, plan);
  if (notice) process.stderr.write(notice);
}
