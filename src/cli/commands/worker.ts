// `worldloop worker`: a worker polling the task queue until SIGINT/SIGTERM, then draining. The resident worker
// (src/temporal/resident-worker.ts) is this command started in the background with --ready-file.
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { config } from '../../config';
import { EXIT_OK, action } from '../output';

export async function workerCommand(opts: { readyFile?: string; socket?: string } = {}): Promise<number> {
  const cfg = config();
  const [{ connectTemporal }, { startWorker }, { openFrontDoor }, { createLogger }] = await Promise.all([
    import('../../temporal/connection'),
    import('../../temporal/worker'),
    import('../../temporal/front-door'),
    import('../../log'),
  ]);
  const temporal = await connectTemporal(cfg);
  const running = await startWorker(cfg, temporal);
  // The resident worker also takes runs from `worldloop run` on its socket (src/temporal/front-door.ts).
  const frontDoor = opts.socket
    ? await openFrontDoor(opts.socket, {
        cfg,
        client: running.client,
        temporal,
        taskQueue: cfg.temporal.taskQueue,
        logger: createLogger({ level: cfg.logLevel }),
      })
    : undefined;
  process.stderr.write(
    `worker polling task queue "${cfg.temporal.taskQueue}" on ${temporal.address} (Ctrl-C to stop)\n`,
  );
  const stop = () => {
    frontDoor?.close();
    void running.shutdown();
  };
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
    .addOption(new Option('--socket <path>', 'take runs from `worldloop run` on this Unix socket').hideHelp())
    .addHelpText('after', '\nExample:\n  $ worldloop worker')
    .action(action(workerCommand));
}
