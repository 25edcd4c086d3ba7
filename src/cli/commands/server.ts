// `worldloop server start|stop|status`: the embedded Temporal dev server (docs/architecture.md §11). Other commands
// start it on demand; these exist to start it ahead of time, see where it is, and stop it.
import type { Command } from 'commander';
import { config } from '../../config';
import { devServerStatus, ensureDevServer, stopDevServer } from '../../temporal/dev-server';
import { EXIT_FAILURE, action, printJson } from '../output';

interface JsonOption {
  json?: boolean;
}

const note = (text: string): void => void process.stderr.write(`note: ${text}\n`);

export function register(program: Command): void {
  const server = program
    .command('server')
    .description('Manage the embedded Temporal dev server (SQLite in the state dir, Web UI on :8233).');

  server
    .command('start')
    .description('Start the embedded dev server in the background, or reuse the running one.')
    .option('--json', 'print {"ok":true,"address":…,"ui_url":…,"pid":…,"started":…} on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop server start
  started Temporal dev server pid 4242 at 127.0.0.1:7233, Web UI http://127.0.0.1:8233
  $ worldloop server start --json          # a second call reuses it
  {"ok":true,"address":"127.0.0.1:7233","ui_url":"http://127.0.0.1:8233","pid":4242,"started":false}
`,
    )
    .action(
      action(async (opts: JsonOption) => {
        const cfg = config();
        if (cfg.temporal.address) {
          note(`TEMPORAL_ADDRESS=${cfg.temporal.address} is set, so worldloop uses that server, not this one`);
        }
        const dev = await ensureDevServer(cfg);
        if (opts.json) {
          printJson({ ok: true, address: dev.address, ui_url: dev.uiUrl, pid: dev.pid, started: dev.started });
        } else {
          const who = dev.pid > 0 ? `pid ${dev.pid}` : '(not started by worldloop)';
          process.stdout.write(
            `${dev.started ? 'started' : 'reusing'} Temporal dev server ${who} at ${dev.address}, Web UI ${dev.uiUrl}\n`,
          );
        }
      }),
    );

  server
    .command('stop')
    .description('Stop the dev server worldloop started (its history stays in the SQLite file).')
    .option('--json', 'print {"ok":true,"stopped":…,"pid":…} on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop server stop
  stopped Temporal dev server pid 4242
  $ worldloop server stop --json           # when nothing is running
  {"ok":true,"stopped":false,"pid":null}
`,
    )
    .action(
      action(async (opts: JsonOption) => {
        const res = await stopDevServer(config());
        if (opts.json) printJson({ ok: true, stopped: res.stopped, pid: res.pid ?? null });
        else if (res.stopped) process.stdout.write(`stopped Temporal dev server pid ${res.pid}\n`);
        else process.stdout.write('no dev server started by worldloop is running\n');
      }),
    );

  server
    .command('status')
    .description('Show the dev server: address, Web UI, pid, database file; exit 1 when it does not answer.')
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
  $ worldloop server status --json
  {"ok":true,"running":true,"address":"127.0.0.1:7233",…}
`,
    )
    .action(
      action(async (opts: JsonOption) => {
        const cfg = config();
        const s = await devServerStatus(cfg);
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
