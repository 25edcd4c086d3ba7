// `worldloop run`: the durable loop from the command line. One command is enough: with no worker polling
// the task queue, `run` embeds one. The Temporal SDK is imported only once the request is known to be
// valid, so bad input is refused quickly and before anything is created.
import type { Command } from 'commander';
import { config } from '../../config';
import { ERROR_CATALOGUE } from '../../contracts/errors';
import { MICRO_PER_USD, type Envelope } from '../../contracts/schemas';
import { EXIT_OK, action, exitCodeFor, printJson } from '../output';
import { DEFAULT_PLAN, DEFAULT_PLAN_BUDGET_USD, buildRunRequest, type RunOptions } from '../run-request';

const WORKER_PICKUP_MS = 2_000;

function printEnvelopeHuman(envelope: Envelope, link: string): void {
  if (envelope.status === 'success') {
    const lines = [
      `✓ ${envelope.execution_id} succeeded${envelope.meta.cache_hit ? ' (cache hit)' : ''} in ${envelope.meta.duration_ms} ms, cost $${(envelope.meta.cost_micro / MICRO_PER_USD).toFixed(6)}`,
      ...envelope.outputs.map((o) => `  output   ${o}`),
      `  index    ${envelope.index_path}`,
      `  receipt  ${envelope.index_path.replace(/outputs\.json$/, 'receipt.json')}`,
      `  image    ${envelope.meta.image_digest}`,
      `  history  ${link}`,
      `  show     worldloop show ${envelope.execution_id}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    // The same code + explanation + action as every other coded failure (src/cli/output.ts).
    const spec = ERROR_CATALOGUE[envelope.error.code];
    process.stderr.write(
      `✗ ${envelope.execution_id} failed: ${envelope.error.code}: ${envelope.error.message}\n  why: ${spec.explanation}\n  ${spec.action}\n  history  ${link}\n`,
    );
  }
}

export async function runCommand(ref: string, opts: RunOptions): Promise<number> {
  const cfg = config();
  const request = await buildRunRequest(ref, opts, cfg);
  const [temporalModule, client, workerModule, embedding, display] = await Promise.all([
    import('../../temporal/connection'),
    import('../../temporal/client'),
    import('../../temporal/worker'),
    import('../embedded-worker'),
    import('../phase-display'),
  ]);
  embedding.quietRuntime();
  const temporal = await temporalModule.connectTemporal(cfg);
  let embedded: Awaited<ReturnType<typeof workerModule.startWorker>> | undefined;
  try {
    await embedding.ensureDefaultPlan(cfg, request.plan);
    const runs = client.runClient(temporal);
    // The embedded worker logs to a file: the terminal belongs to the run's own display.
    const embed = () => workerModule.startWorker(cfg, temporal, { logger: embedding.fileLogger(cfg) });
    const mayEmbed = !opts.detach && cfg.temporal.embeddedWorker;
    if (mayEmbed && !(await client.hasWorkflowPollers(temporal, cfg.temporal.taskQueue))) embedded = await embed();
    const { execution_id, handle } = await client.startRun(runs, { taskQueue: cfg.temporal.taskQueue, request });
    // Temporal keeps listing a poller for minutes after its process died (e.g. the previous `run`).
    // If nobody picks the run up promptly, this process becomes the worker.
    if (mayEmbed && !embedded && !(await client.pickedUp(handle, WORKER_PICKUP_MS))) embedded = await embed();
    const link = temporalModule.uiLinkForWorkflow(
      temporal.uiUrl,
      temporal.namespace,
      handle.workflowId,
      handle.firstExecutionRunId,
    );
    if (opts.detach) {
      if (opts.json) printJson({ execution_id, workflow_id: handle.workflowId, ui: link });
      else
        process.stdout.write(
          `started ${execution_id}\n  history  ${link}\n  show     worldloop show ${execution_id}\n`,
        );
      return EXIT_OK;
    }
    if (!opts.json) process.stderr.write(`run ${execution_id}  ${link}\n`);
    const result = client.runEnvelope(handle);
    if (!opts.json)
      await display.watchPhases(
        () => client.queryPhase(handle),
        result.catch(() => undefined),
      );
    const envelope = await result;
    if (opts.json) printJson(envelope);
    else {
      printEnvelopeHuman(envelope, link);
      if (embedded && envelope.status === 'error') process.stderr.write(`  log      ${embedding.logFilePath(cfg)}\n`);
    }
    return envelope.status === 'success' ? EXIT_OK : exitCodeFor(envelope.error.code);
  } finally {
    await embedded?.shutdown();
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
