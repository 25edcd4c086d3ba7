// `worldloop replay`: replay recorded workflow histories (files, or recent runs from the cluster) against this
// checkout's workflow code, and `--export` them to commit (src/temporal/replay.ts).
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { REPO_ROOT, config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { connectTemporal } from '../../temporal/connection';
import { runClient } from '../../temporal/client';
import {
  type ReplaySource,
  assertReplayed,
  exportHistories,
  historiesFromCluster,
  historiesFromDir,
  replayHistories,
} from '../../temporal/replay';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { action, printJson } from '../output';

interface ReplayFlags {
  dir?: string;
  query?: string;
  last: string;
  export?: string;
  workflows: string;
  json?: boolean;
}

/** A replay's nondeterminism is reported once, in the catalogue's form: the SDK and its core stay quiet. */
function quietReplayRuntime(): void {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
}

function parseLast(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new WorldloopError('ERR_USAGE', `--last ${value}: expected 1–9999`);
  return Number(value);
}

async function fromCluster(query: string | undefined, last: number): Promise<ReplaySource[]> {
  const temporal = await connectTemporal(config());
  try {
    return await historiesFromCluster(runClient(temporal), query, last);
  } finally {
    await temporal.connection.close();
  }
}

export function register(program: Command): void {
  program
    .command('replay')
    .description(
      "Replay workflow histories (a folder, or the cluster's recent runs) against this checkout's workflow code; exit 1 on nondeterminism.",
    )
    .option('--dir <dir>', 'a folder of *.json histories (from --export or `temporal workflow show --output json`)')
    .option('--query <query>', "a visibility query for the cluster's runs, e.g. \"WorkflowType='runProcessor'\"")
    .option('--last <n>', 'how many of the newest matching runs to fetch from the cluster', '20')
    .option('--export <dir>', 'save the fetched histories as files to commit, instead of replaying them')
    .option('--workflows <path>', 'the workflows module to replay against', join(REPO_ROOT, 'workflows', 'index.ts'))
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
A history the current code does not reproduce fails the command (ERR_REPLAY_NONDETERMINISM, exit 1),
naming the workflow, the run and the event. Without --dir, histories come from the Temporal cluster
(TEMPORAL_ADDRESS, or the embedded dev server).

Examples:
  $ worldloop replay --dir tests/replay/histories
  $ worldloop replay --query "WorkflowType='runProcessor' AND ExecutionStatus='Completed'" --last 50
  $ worldloop replay --export tests/replay/histories --last 5 --query "WorkflowType='runProcessor'"`,
    )
    .action(
      action(async (flags: ReplayFlags) => {
        const last = parseLast(flags.last);
        if (flags.dir && (flags.query || flags.export)) {
          throw new WorldloopError('ERR_USAGE', '--dir replays files; --query and --export read from the cluster');
        }
        quietReplayRuntime();
        const sources = flags.dir ? await historiesFromDir(resolve(flags.dir)) : await fromCluster(flags.query, last);
        if (flags.export) {
          if (sources.length === 0) throw new WorldloopError('ERR_REPLAY_HISTORY', 'no run matched; nothing exported');
          await mkdir(resolve(flags.export), { recursive: true });
          const files = await exportHistories(sources, resolve(flags.export));
          if (flags.json) printJson({ ok: true, exported: files });
          else
            process.stdout.write(
              `exported ${files.length} histories to ${flags.export}\n${files.map((f) => `  ${f}\n`).join('')}`,
            );
          return;
        }
        if (sources.length === 0)
          throw new WorldloopError('ERR_REPLAY_HISTORY', 'no history to replay (no run matched)');
        const outcomes = await replayHistories(sources, resolve(flags.workflows));
        const failed = outcomes.filter((o) => !o.ok).length;
        if (flags.json) printJson({ ok: failed === 0, replayed: outcomes.length, failed, outcomes });
        else {
          for (const o of outcomes)
            process.stdout.write(`${o.ok ? 'ok  ' : 'FAIL'}  ${o.workflowId}  ${o.runId}  ${o.origin}\n`);
          process.stdout.write(`${outcomes.length - failed} replayed deterministically, ${failed} failed\n`);
        }
        if (failed > 0 && flags.json) return 1;
        assertReplayed(outcomes);
      }),
    );
}
