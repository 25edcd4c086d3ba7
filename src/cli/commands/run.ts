// `worldloop run`: the durable loop from the command line. One command is enough: with the embedded dev server a
// resident worker serves the run (started on first use, src/temporal/resident-worker.ts); against a configured
// cluster that no worker serves, or with --embedded-worker, this process is the worker. The Temporal SDK is
// imported only once the request is known to be valid, so bad input is refused before anything is created.
import type { Command } from 'commander';
import { config, type Config } from '../../config';
import type { TemporalConnection } from '../../temporal/connection';
import { EXIT_OK, action } from '../output';
import { DEFAULT_PLAN, DEFAULT_PLAN_BUDGET_USD, draftRunRequest } from '../run-draft';
import { printStarted, reportEnvelope, type RunCommandOptions } from '../run-output';

/** Who works on the run: the resident worker, this process, or whoever already polls the task queue. */
async function chooseWorker(
  cfg: Config,
  temporal: TemporalConnection,
  opts: RunCommandOptions,
): Promise<'resident' | 'embedded' | 'none'> {
  if (opts.embeddedWorker) return 'embedded';
  if (!cfg.temporal.embeddedWorker) return 'none';
  if (temporal.embedded) return 'resident';
  if (opts.detach) return 'none';
  const { hasWorkflowPollers } = await import('../../temporal/client');
  return (await hasWorkflowPollers(temporal, cfg.temporal.taskQueue)) ? 'none' : 'embedded';
}

async function startEmbeddedWorker(cfg: Config, temporal: TemporalConnection) {
  const [{ startWorker }, embedding] = await Promise.all([
    import('../../temporal/worker'),
    import('../embedded-worker'),
  ]);
  embedding.quietRuntime();
  // The embedded worker logs to a file: the terminal belongs to the run's own display.
  const worker = await startWorker(cfg, temporal, { logger: embedding.fileLogger(cfg) });
  return { worker, logFile: embedding.logFilePath(cfg) };
}

export async function runCommand(ref: string, opts: RunCommandOptions): Promise<number> {
  const cfg = config();
  const draft = await draftRunRequest(ref, opts, cfg);
  // The short way: the resident worker validates the draft and takes the run on its socket (no SDK, schema or
  // hashing module loaded here, no connection opened).
  if (!opts.embeddedWorker) {
    const { runViaFrontDoor } = await import('../run-front-door');
    const code = await runViaFrontDoor(cfg, draft, opts);
    if (code !== undefined) return code;
  }
  // The long way: the same checks here, before anything is created or connected; a refusal is thrown from here.
  const [{ completeRunRequest }, { ensureDefaultPlan }] = await Promise.all([
    import('../run-request'),
    import('../default-plan'),
  ]);
  const request = completeRunRequest(draft);
  await ensureDefaultPlan(cfg, request.plan);
  const [temporalModule, client, display] = await Promise.all([
    import('../../temporal/connection'),
    import('../../temporal/client'),
    import('../phase-display'),
  ]);
  const temporal = await temporalModule.connectTemporal(cfg);
  let embedded: Awaited<ReturnType<typeof startEmbeddedWorker>> | undefined;
  try {
    const worker = await chooseWorker(cfg, temporal, opts);
    if (worker === 'resident') {
      const { ensureResidentWorker } = await import('../../temporal/resident-worker');
      const resident = await ensureResidentWorker(cfg, temporal.address);
      if (resident.started && !opts.json)
        process.stderr.write(`started the resident worker pid ${resident.pid} (log ${resident.logFile})\n`);
    } else if (worker === 'embedded') embedded = await startEmbeddedWorker(cfg, temporal);
    const { execution_id, handle } = await client.startRun(client.runClient(temporal), {
      taskQueue: cfg.temporal.taskQueue,
      request,
    });
    const link = temporalModule.uiLinkForWorkflow(
      temporal.uiUrl,
      temporal.namespace,
      handle.workflowId,
      handle.firstExecutionRunId,
    );
    printStarted({ execution_id, workflow_id: handle.workflowId, ui: link }, opts);
    if (opts.detach) return EXIT_OK;
    // Waiting is one long poll on the result; the phase line (a terminal only) queries the running workflow.
    const result = client.runEnvelope(handle);
    if (!opts.json)
      await display.watchPhases(
        () => client.queryPhase(handle),
        result.then(display.finalPhases, () => undefined),
      );
    return reportEnvelope(await result, link, opts, embedded?.logFile);
  } finally {
    await embedded?.worker.shutdown();
    await temporal.connection.close();
  }
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Run a processor through Admit → Reserve → Execute → Settle → Re-check on Temporal')
    .argument('<ref>', 'processor reference, ns/name@major')
    .requiredOption(
      '--inputs <json|@file>',
      'the processor inputs as JSON, or @path to a JSON file (at most 1 MiB of JSON, nesting at most 512 deep)',
    )
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
    .option('--embedded-worker', 'run a worker in this process for this run instead of using the resident one')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop run text/stats@1 --inputs '{"text":"hello world"}'
  $ worldloop run text/stats@1 --inputs @inputs.json --json
  $ worldloop run llm/chat@1 --inputs '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' --mode mock
  $ worldloop run text/stats@1 --inputs '{"text":"x"}' --plan team-a --no-cache --detach

Large data does not belong in --inputs: put it in the world (world://artifacts/…) or a file and pass its path.

Exit codes: 0 success envelope, 2 bad input (checked before anything starts: inputs, flags, an adapter
this build's workers lack), 1 any other failure. CI=true with --mode real is refused with ERR_CI_SAFETY
and exit 1: a policy refusal, not a malformed request (see docs/adr/0006).`,
    )
    .action(action(runCommand));
}
