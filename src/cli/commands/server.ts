// `worldloop server start|stop|status`: the embedded Temporal dev server and the resident worker that serves it
// (docs/architecture.md §11). Other commands start both on demand; these exist to start them ahead of time, see
// where they are, and stop them.
import type { Command } from 'commander';
import { config } from '../../config';
import { devServerAddress, devServerStatus, ensureDevServer, stopDevServer } from '../../temporal/dev-server';
import {
  ensureResidentWorker,
  residentWorkerStatus,
  stopResidentWorker,
  type ResidentWorkerStatus,
} from '../../temporal/resident-worker';
import { EXIT_FAILURE, action, printJson } from '../output';

interface JsonOption {
  json?: boolean;
}

function workerLine(w: ResidentWorkerStatus): string {
  if (!w.running) return `not running — the next \`run\` or \`worldloop server start\` starts it (log ${w.logFile})`;
  const stale = w.current ? '' : '; serves another build or task queue, the next run replaces it';
  return `running (pid ${w.pid}, task queue ${w.taskQueue ?? '?'}${stale}, log ${w.logFile})`;
}

const note = (text: string): void => void process.stderr.write(`note: ${text}\n`);

export function register(program: Command): void {
  const server = program
    .command('server')
    .description(
      'Manage the embedded Temporal dev server (SQLite in the state dir, Web UI on :8233) and its resident worker.',
    );

  server
    .command('start')
    .description('Start the embedded dev server and the resident worker in the background, or reuse (or restart) them.')
    .option('--json', 'print {"ok":true,"address":…,"ui_url":…,"pid":…,"started":…,"worker":{…}} on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop server start
  started Temporal dev server pid 4242 at 127.0.0.1:7233, Web UI http://127.0.0.1:8233
  started the resident worker pid 4250 (log /home/me/.worldloop/logs/worker.log)
  $ worldloop server start --json          # a second call reuses them
  {"ok":true,"address":"127.0.0.1:7233","ui_url":"http://127.0.0.1:8233","pid":4242,"started":false,"worker":{"pid":4250,"started":false,…}}
`,
    )
    .action(
      action(async (opts: JsonOption) => {
        const cfg = config();
        if (cfg.temporal.address) {
          note(`TEMPORAL_ADDRESS=${cfg.temporal.address} is set, so worldloop uses that server, not this one`);
        }
        const dev = await ensureDevServer(cfg);
        // A configured cluster is served by its own workers; the resident worker belongs to the dev server.
        const worker = cfg.temporal.address ? undefined : await ensureResidentWorker(cfg, dev.address);
        if (opts.json) {
          printJson({
            ok: true,
            address: dev.address,
            ui_url: dev.uiUrl,
            pid: dev.pid,
            started: dev.started,
            worker: worker ? { pid: worker.pid, started: worker.started, log_file: worker.logFile } : null,
          });
        } else {
          const who = dev.pid > 0 ? `pid ${dev.pid}` : '(not started by worldloop)';
          process.stdout.write(
            `${dev.started ? 'started' : 'reusing'} Temporal dev server ${who} at ${dev.address}, Web UI ${dev.uiUrl}\n`,
          );
          if (worker)
            process.stdout.write(
              `${worker.started ? 'started' : 'reusing'} the resident worker pid ${worker.pid} (log ${worker.logFile})\n`,
            );
        }
      }),
    );

  server
    .command('stop')
    .description('Stop the resident worker and the dev server worldloop started (history stays in the SQLite file).')
    .option('--json', 'print {"ok":true,"stopped":…,"pid":…,"worker":{"stopped":…,"pid":…}} on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop server stop
  stopped the resident worker pid 4250
  stopped Temporal dev server pid 4242
  $ worldloop server stop --json           # when nothing is running
  {"ok":true,"stopped":false,"pid":null,"worker":{"stopped":false,"pid":null}}
`,
    )
    .action(
      action(async (opts: JsonOption) => {
        const cfg = config();
        // The worker first: it drains while the server still answers.
        const worker = await stopResidentWorker(cfg);
        const res = await stopDevServer(cfg);
        if (opts.json)
          printJson({
            ok: true,
            stopped: res.stopped,
            pid: res.pid ?? null,
            worker: { stopped: worker.stopped, pid: worker.pid ?? null },
          });
        else {
          if (worker.stopped) process.stdout.write(`stopped the resident worker pid ${worker.pid}\n`);
          if (res.stopped) process.stdout.write(`stopped Temporal dev server pid ${res.pid}\n`);
          else process.stdout.write('no dev server started by worldloop is running\n');
        }
      }),
    );

  server
    .command('status')
    .description(
      'Show the dev server (address, Web UI, pid, database) and the resident worker; exit 1 when the server does not answer.',
    )
    .option('--json', 'print the status object on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop server status
  running   yes (Temporal 1.29.1, pid 4242)
  address   127.0.0.1:7233 (namespace default)
  web ui    http://127.0.0.1:8233 (answers)
  database  /home/me/.worldloop/temporal/dev.sqlite
  log       /home/me/.worldloop/temporal/dev-server.log
  worker    running (pid 4250, task queue worldloop, log /home/me/.worldloop/logs/worker.log)
  $ worldloop server status --json
  {"ok":true,"running":true,"address":"127.0.0.1:7233",…}
`,
    )
    .action(
      action(async (opts: JsonOption) => {
        const cfg = config();
        const [s, w] = await Promise.all([devServerStatus(cfg), residentWorkerStatus(cfg, devServerAddress(cfg))]);
        if (opts.json) {
          printJson({
            ok: s.healthy,
            running: s.healthy,
            address: s.address,
            namespace: s.namespace,
            ui_url: s.uiUrl,
            ui_ok: s.uiOk,
            pid: s.pid ?? null,
            db_file: s.dbFile,
            log_file: s.logFile,
            server_version: s.serverVersion ?? null,
            configured_address: cfg.temporal.address ?? null,
            worker: {
              running: w.running,
              pid: w.pid ?? null,
              task_queue: w.taskQueue ?? null,
              current: w.current,
              log_file: w.logFile,
            },
          });
        } else {
          const running = s.healthy
            ? `yes (Temporal ${s.serverVersion ?? '?'}, ${s.pid ? `pid ${s.pid}` : 'not started by worldloop'})`
            : `no${s.pid ? ` (pid ${s.pid} is alive but does not answer)` : ''} — start it with \`worldloop server start\``;
          process.stdout.write(
            [
              `running   ${running}`,
              `address   ${s.address} (namespace ${s.namespace})`,
              `web ui    ${s.uiUrl} (${s.uiOk ? 'answers' : 'not answering'})`,
              `database  ${s.dbFile}`,
              `log       ${s.logFile}`,
              `worker    ${workerLine(w)}`,
              ...(cfg.temporal.address
                ? [`note      TEMPORAL_ADDRESS=${cfg.temporal.address} is what worldloop uses`]
                : []),
            ].join('\n') + '\n',
          );
        }
        return s.healthy ? undefined : EXIT_FAILURE;
      }),
    );
}
