// `worldloop logs <execution_id> [--follow] [--json]`: the processor's lifecycle events of one run, read
// from the execution artifact world://artifacts/execution/<id>/logs.jsonl (kept by Execute), or — while
// the run is still going and --follow is given — from its container's live stderr.
import type { Command } from 'commander';
import { EXIT_OK, action } from '../output';

interface LogsOptions {
  follow?: boolean;
  json?: boolean;
}

/** Lines the kit and the worker add to every record; the human view shows the rest as key=value. */
const CONTEXT_FIELDS = new Set(['level', 'time', 'event', 'execution_id', 'processor_ref', 'mode', 'version']);

/** One lifecycle line for a person: time, level, event and the fields that differ per event. */
export function humanLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'string' ? record.time.replace(/^.*T/, '').replace(/Z$/, '') : '';
  const level = record.level === 'error' ? 'ERROR' : record.level === undefined ? '' : 'info ';
  const rest = Object.entries(record)
    .filter(([k]) => !CONTEXT_FIELDS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return [time, level, String(record.event ?? ''), rest].filter((s) => s !== '').join('  ');
}

/** How many of the container's last stderr lines a --follow poll reads (the kit writes about ten). */
const LIVE_TAIL_LINES = 500;

export async function logsCommand(executionId: string, opts: LogsOptions): Promise<number> {
  // Loaded on use, as `run` does: every CLI start would otherwise pay for Temporal and Docker clients.
  const [{ Client, WorkflowNotFoundError }, { connectDocker, containerName }, { demuxBuffer }, { config }] =
    await Promise.all([
      import('@temporalio/client'),
      import('../../adapters'),
      import('../../adapters/log-tail'),
      import('../../config'),
    ]);
  const [
    { WorldloopError },
    { runWorkflowId },
    { defaultRedactor },
    { followRunLogs, runLogsPath },
    { connectTemporal },
    { openWorld },
  ] = await Promise.all([
    import('../../contracts/errors'),
    import('../../contracts/workflow-id'),
    import('../../log'),
    import('../../run-logs'),
    import('../../temporal'),
    import('../../world'),
  ]);
  const cfg = config();
  const temporal = await connectTemporal(cfg);
  try {
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
    const handle = client.workflow.getHandle(runWorkflowId(executionId));
    const closed = async () => {
      try {
        return (await handle.describe()).status.name !== 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError)
          throw new WorldloopError('ERR_NOT_FOUND', `no run with execution id ${executionId}`);
        throw err;
      }
    };
    const isClosed = await closed();
    const { world } = openWorld(cfg);
    const path = runLogsPath(executionId);
    const artifact = async () =>
      (await world.stat(path)) ? new TextDecoder().decode(await world.readBytes(path)) : undefined;
    const print = (line: string) => process.stdout.write(`${opts.json ? line : humanLine(line)}\n`);

    if (!opts.follow || isClosed) {
      const text = await artifact();
      if (text === undefined) {
        process.stderr.write(
          isClosed
            ? `no processor log for ${executionId}: the run ran no container (a cache hit, or it ended before Execute)\n`
            : `the run is still going and its log has not landed yet; use --follow to tail it\n`,
        );
        return EXIT_OK;
      }
      for (const line of text.split('\n')) if (line.trim() !== '') print(line);
      return EXIT_OK;
    }

    const docker = connectDocker(cfg);
    const live = async () => {
      try {
        const buf = (await docker
          .getContainer(containerName(executionId))
          .logs({ follow: false, stdout: false, stderr: true, tail: LIVE_TAIL_LINES })) as unknown;
        if (!Buffer.isBuffer(buf)) return undefined;
        const chunks: Buffer[] = [];
        demuxBuffer(buf, (chunk) => chunks.push(chunk));
        return Buffer.concat(chunks).toString('utf8');
      } catch {
        // No container (not started yet, already removed, or the engine is elsewhere): nothing live.
        return undefined;
      }
    };
    await followRunLogs(
      { artifact, live, closed, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
      { redactLine: (line) => defaultRedactor.redactLine(line), print },
    );
    return EXIT_OK;
  } finally {
    await temporal.connection.close();
  }
}

export function register(program: Command): void {
  program
    .command('logs')
    .description("Print a run's processor lifecycle events (execution.start … execution.settle|fail)")
    .argument('<execution_id>')
    .option('--follow', 'tail a running run and exit when it ends')
    .option('--json', 'print the JSON lines as kept')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop logs 019ab3c2-…
  $ worldloop logs 019ab3c2-… --follow
  $ worldloop logs 019ab3c2-… --json | jq -r .event

The lines are kept for every run that ran a container as world://artifacts/execution/<id>/logs.jsonl.
Exit codes: 0 printed (or nothing to print), 2 unknown execution id (ERR_NOT_FOUND), 1 anything else.`,
    )
    .action(action(async (id: string, opts: LogsOptions) => logsCommand(id, opts)));
}
