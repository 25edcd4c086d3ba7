// `worldloop worker`: a worker polling the task queue until SIGINT/SIGTERM, then draining.
import type { Command } from 'commander';
import { config } from '../../config';
import { EXIT_OK, action } from '../output';

export async function workerCommand(): Promise<number> {
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
  await running.done;
  await temporal.connection.close();
  return EXIT_OK;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run a worldloop worker polling task queue "worldloop" until interrupted')
    .addHelpText('after', '\nExample:\n  $ worldloop worker')
    .action(action(workerCommand));
}
