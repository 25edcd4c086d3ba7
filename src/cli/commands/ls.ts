// `worldloop ls`: recent runs from Temporal visibility, newest first.
import type { Command } from 'commander';
import { config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { EXIT_OK, action, printJson } from '../output';

export async function lsCommand(opts: { json?: boolean; limit: string }): Promise<number> {
  const cfg = config();
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new WorldloopError('ERR_USAGE', '--limit must be 1–1000');
  const [{ connectTemporal }, client] = await Promise.all([
    import('../../temporal/connection'),
    import('../../temporal/client'),
  ]);
  const temporal = await connectTemporal(cfg);
  try {
    const rows = (await client.listRuns(client.runClient(temporal), { limit })).map((r) => ({
      ...r,
      started: r.started.toISOString(),
    }));
    if (opts.json) printJson(rows);
    else {
      for (const r of rows) {
        process.stdout.write(
          `${r.started}  ${r.status.padEnd(10)} ${r.processor_ref.padEnd(16)} ${r.mode.padEnd(5)} ${r.cache_hit === true ? 'hit ' : '    '} ${r.execution_id}\n`,
        );
      }
      if (rows.length === 0)
        process.stdout.write('no runs yet — try: worldloop run text/stats@1 --inputs \'{"text":"hello world"}\'\n');
    }
    return EXIT_OK;
  } finally {
    await temporal.connection.close();
  }
}

export function register(program: Command): void {
  program
    .command('ls')
    .description('List recent runs (Temporal visibility)')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ worldloop ls --limit 5')
    .action(action(lsCommand));
}
