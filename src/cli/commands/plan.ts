// `worldloop plan …`: budgets as hash-chained ledgers in the world store (docs/adr/0001). Money crosses the
// command line in USD and is stored as integer micro-dollars, so no float ever reaches the ledger.
import type { Command } from 'commander';
import { config } from '../../config';
import { ERROR_CATALOGUE, WorldloopError } from '../../contracts/errors';
import { openWorld, type PlanView } from '../../world/index';
import { EXIT_FAILURE, action, printJson } from '../output';

const MICRO_PER_USD = 1_000_000n;
const USD = /^(\d+)(?:\.(\d{1,6}))?$/;

/** "12.5" → 12_500_000. Refuses negatives, exponents, NaN, more than 6 decimals and unsafe integers. */
export function usdToMicro(raw: string, flag = '--budget-usd'): number {
  const m = USD.exec(raw.trim());
  if (!m) {
    throw new WorldloopError(
      'ERR_USAGE',
      `${flag} ${JSON.stringify(raw)}: expected a non-negative amount in USD with at most 6 decimals, e.g. 10 or 0.25`,
    );
  }
  const micro = BigInt(m[1]!) * MICRO_PER_USD + BigInt((m[2] ?? '').padEnd(6, '0'));
  if (micro > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WorldloopError('ERR_USAGE', `${flag} ${raw}: too large (at most ${Number.MAX_SAFE_INTEGER} micro-USD)`);
  }
  return Number(micro);
}

export function microToUsd(micro: number): string {
  const sign = micro < 0 ? '-' : '';
  const abs = BigInt(Math.abs(micro));
  const frac = (abs % MICRO_PER_USD).toString().padStart(6, '0');
  return `${sign}$${abs / MICRO_PER_USD}.${frac}`;
}

interface JsonFlag {
  json?: boolean;
}

function summary(plan: PlanView): Record<string, unknown> {
  const counts = { reserved: 0, charged: 0, released: 0 };
  for (const r of plan.reservations) counts[r.status]++;
  return {
    key: plan.key,
    created_at: plan.created_at,
    budget_micro: plan.budget_micro,
    reserved_micro: plan.reserved_micro,
    spent_micro: plan.spent_micro,
    available_micro: plan.available_micro,
    budget_usd: microToUsd(plan.budget_micro),
    reserved_usd: microToUsd(plan.reserved_micro),
    spent_usd: microToUsd(plan.spent_micro),
    available_usd: microToUsd(plan.available_micro),
    events: plan.events,
    head: plan.head,
    executions: counts,
  };
}

function printPlan(plan: PlanView): void {
  const s = summary(plan);
  const row = (label: string, micro: number): string =>
    `  ${label.padEnd(10)} ${microToUsd(micro).padStart(16)}  (${micro} micro-USD)\n`;
  const c = s.executions as Record<string, number>;
  process.stdout.write(
    `plan ${plan.key}  (created ${plan.created_at})\n` +
      row('budget', plan.budget_micro) +
      row('reserved', plan.reserved_micro) +
      row('spent', plan.spent_micro) +
      row('available', plan.available_micro) +
      `  executions ${c.reserved} running, ${c.charged} settled, ${c.released} released\n` +
      `  ledger     ${plan.events} events, head ${plan.head.hash}\n`,
  );
}

export function register(program: Command): void {
  const plan = program
    .command('plan')
    .description('Plans: budgets that runs reserve from and settle against, kept as a verifiable hash-chained ledger.');

  plan
    .command('create')
    .description('Create a plan with a budget. Creating it again with the same budget is a no-op.')
    .argument('<key>', "plan key: 1–64 of a-z, 0-9, '.', '_', '-'")
    .requiredOption('--budget-usd <amount>', 'budget in USD, at most 6 decimals (stored as integer micro-dollars)')
    .option('--json', 'print the plan as one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop plan create research --budget-usd 25
  plan research created
  ...
  $ worldloop plan create research --budget-usd 25    # again: no-op, exit 0
  $ worldloop plan create research --budget-usd 30    # ERR_PLAN_EXISTS, exit 2
  $ worldloop plan create tiny --budget-usd 0.05 --json`,
    )
    .action(
      action(async (key: string, flags: JsonFlag & { budgetUsd: string }) => {
        const budget = usdToMicro(flags.budgetUsd);
        const { ledger } = openWorld(config());
        const created = await ledger.createPlan(key, budget);
        if (flags.json) {
          printJson({ ok: true, created: created.created, plan: summary(created) });
        } else {
          process.stdout.write(`plan ${key} ${created.created ? 'created' : 'already exists with this budget'}\n`);
          printPlan(created);
        }
      }),
    );

  plan
    .command('raise')
    .description('Raise a plan budget (never lowers it).')
    .argument('<key>', 'plan key')
    .requiredOption('--budget-usd <amount>', 'the new, higher budget in USD')
    .option('--json', 'print the plan as one JSON object')
    .addHelpText('after', `\nExamples:\n  $ worldloop plan raise research --budget-usd 50`)
    .action(
      action(async (key: string, flags: JsonFlag & { budgetUsd: string }) => {
        const { ledger } = openWorld(config());
        const raised = await ledger.raiseBudget(key, usdToMicro(flags.budgetUsd));
        if (flags.json) printJson({ ok: true, plan: summary(raised) });
        else printPlan(raised);
      }),
    );

  plan
    .command('show')
    .description('Show budget, reserved, spent and available (USD and micro-USD), event count and ledger head.')
    .argument('<key>', 'plan key')
    .option('--reservations', 'also list every execution with its reservation and settlement')
    .option('--json', 'print one JSON object (with --reservations: including the list)')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop plan show research
  plan research  (created 2026-11-24T04:48:25.806Z)
    budget            $25.000000  (25000000 micro-USD)
    reserved           $0.100000  (100000 micro-USD)
    spent              $0.020000  (20000 micro-USD)
    available         $24.880000  (24880000 micro-USD)
    executions 1 running, 1 settled, 0 released
    ledger     4 events, head 762e2d05…
  $ worldloop plan show research --json --reservations`,
    )
    .action(
      action(async (key: string, flags: JsonFlag & { reservations?: boolean }) => {
        const { ledger } = openWorld(config());
        const p = await ledger.getPlan(key);
        if (flags.json) {
          printJson({
            ok: true,
            plan: { ...summary(p), ...(flags.reservations ? { reservations: p.reservations } : {}) },
          });
          return;
        }
        printPlan(p);
        if (flags.reservations) {
          for (const r of p.reservations) {
            const settled = r.status === 'charged' ? ` charged ${microToUsd(r.charged_micro ?? 0)}` : '';
            process.stdout.write(
              `  ${r.execution_id}  ${r.status}  reserved ${microToUsd(r.amount_micro)}${settled}\n`,
            );
          }
        }
      }),
    );

  plan
    .command('verify')
    .description(
      'Re-read the whole ledger and check every hash link, sequence number and budget rule (exit 1 if broken).',
    )
    .argument('<key>', 'plan key')
    .option(
      '--expect-head <hash>',
      'also require this head hash (detects a truncated tail against a hash kept elsewhere)',
    )
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop plan verify research
  plan research: ledger verifies (4 events, head 762e2d05…)
  $ worldloop plan verify research --json
  {"ok":true,"key":"research","events":4,"head":{"seq":4,"hash":"…"},"problems":[]}
  A broken chain prints ERR_LEDGER_BROKEN with the first problem found and exits 1.`,
    )
    .action(
      action(async (key: string, flags: JsonFlag & { expectHead?: string }) => {
        const { ledger } = openWorld(config());
        const v = await ledger.verifyPlan(key);
        const problems = [...v.problems];
        if (v.ok && flags.expectHead && flags.expectHead !== v.head.hash) {
          problems.push(`head is ${v.head.hash} (event ${v.head.seq}), expected ${flags.expectHead}`);
        }
        const ok = problems.length === 0;
        if (flags.json) {
          const spec = ERROR_CATALOGUE.ERR_LEDGER_BROKEN;
          printJson(
            ok
              ? { ...v, ok }
              : { ...v, ok, problems, code: 'ERR_LEDGER_BROKEN', explanation: spec.explanation, action: spec.action },
          );
          return ok ? 0 : EXIT_FAILURE;
        }
        if (!ok) throw new WorldloopError('ERR_LEDGER_BROKEN', `plan ${key}: ${problems.join('; ')}`);
        process.stdout.write(`plan ${key}: ledger verifies (${v.events} events, head ${v.head.hash})\n`);
        return 0;
      }),
    );

  plan
    .command('ls')
    .description('List plans with their budget and what is available.')
    .option('--json', 'print one JSON object')
    .addHelpText('after', `\nExamples:\n  $ worldloop plan ls\n  $ worldloop plan ls --json`)
    .action(
      action(async (flags: JsonFlag) => {
        const { ledger } = openWorld(config());
        const plans = await Promise.all((await ledger.listPlans()).map((k) => ledger.getPlan(k)));
        if (flags.json) {
          printJson({ ok: true, plans: plans.map(summary) });
          return;
        }
        if (plans.length === 0) process.stdout.write('no plans yet: worldloop plan create <key> --budget-usd N\n');
        for (const p of plans) {
          process.stdout.write(
            `${p.key.padEnd(24)} budget ${microToUsd(p.budget_micro).padStart(14)}  available ${microToUsd(p.available_micro).padStart(14)}  ${p.events} events\n`,
          );
        }
      }),
    );
}
