// `worldloop run`, `worldloop show`, `worldloop ls` and `worldloop worker`: the durable loop from the
// command line. One command is enough: with no worker polling the task queue, `run` embeds one.
import type { Command } from 'commander';
import { action } from '../output';

export const DEFAULT_PLAN = 'default';
export const DEFAULT_PLAN_BUDGET_USD = 10;

export interface RunOptions {
  inputs: string;
  mode?: string;
  plan?: string;
  writePrefix?: string;
  adapter: string;
  cache: boolean;
  detach?: boolean;
  json?: boolean;
}

const actions = () => import('./run-actions');

export function register(program: Command): void {
  program
    .command('run')
    .description('Run a processor through Admit → Reserve → Execute → Settle → Re-check on Temporal')
    .argument('<ref>', 'processor reference, ns/name@major')
    .requiredOption('--inputs <json|@file>', 'the processor inputs as JSON, or @path to a JSON file')
    .option('--mode <mode>', 'mock or real (default: WORLDLOOP_MODE, else mock)')
    .option(
      '--plan <key>',
      `the budget plan to charge (default: "${DEFAULT_PLAN}", created with $${DEFAULT_PLAN_BUDGET_USD})`,
    )
    .option(
      '--write-prefix <prefix>',
      'where outputs land (default world://artifacts/outputs/<ns>/<name>/{execution_id}/)',
    )
    .option('--adapter <name>', 'execution adapter', 'local')
    .option('--no-cache', 'run even when a cached result of a deterministic processor exists')
    .option('--detach', 'start the run and return at once')
    .option('--json', 'print only the envelope, as JSON, on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop run text/stats@1 --inputs '{"text":"hello world"}'
  $ worldloop run text/stats@1 --inputs @inputs.json --json
  $ worldloop run llm/chat@1 --inputs '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' --mode mock
  $ worldloop run text/stats@1 --inputs '{"text":"x"}' --plan team-a --no-cache --detach

Exit codes: 0 success envelope, 2 bad input, 1 any other failure.`,
    )
    .action(action(async (ref: string, opts: RunOptions) => (await actions()).runCommand(ref, opts)));

  program
    .command('show')
    .description('Show a run: status, envelope, receipt, outputs and the Web UI link')
    .argument('<execution_id>')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ worldloop show 019ab3c2-…')
    .action(action(async (id: string, opts: { json?: boolean }) => (await actions()).showCommand(id, opts)));

  program
    .command('ls')
    .description('List recent runs (Temporal visibility)')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ worldloop ls --limit 5')
    .action(action(async (opts: { json?: boolean; limit: string }) => (await actions()).lsCommand(opts)));

  program
    .command('worker')
    .description('Run a worldloop worker polling task queue "worldloop" until interrupted')
    .addHelpText('after', '\nExample:\n  $ worldloop worker')
    .action(action(async () => (await actions()).workerCommand()));
}
