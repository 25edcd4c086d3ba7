// `worldloop worker`: a worker polling the task queue until SIGINT/SIGTERM, then draining. The resident worker
// (src/temporal/resident-worker.ts) is this command started in the background with --ready-file.
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { config } from '../../config';
import { EXIT_OK, action } from '../output';

export async function workerCommand(opts: { readyFile?: string } = {}): Promise<number> {
  const cfg = config();
  const [{ connectTemporal }, { startWorker }] = await Promise.all([
    import('../../temporal/connection'),
    import('../../temporal/worker'),
  ]);
  const temporal = await connectTemporal(cfg);
  const running = await startWorker(cfg, temporal);
  process.stderr.write(
    `worker polling task queue "${cfg.temporal.taskQueue}" on ${temporal.address} (Ctrl-C to stop)\n`,
  );
  const stop = () => void running.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Only now, polling: whoever started this process in the background waits for this file.
  if (opts.readyFile) await writeFile(opts.readyFile, `${process.pid}\n`);
  await running.done;
  await temporal.connection.close();
  return EXIT_OK;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run a worldloop worker polling task queue "worldloop" until interrupted')
    .addOption(new Option('--ready-file <path>', 'written once the worker polls (for the resident worker)').hideHelp())
    .addHelpText('after', '\nExample:\n  $ worldloop worker')
    .action(action(workerCommand));
}
