// `worldloop drift audit|schedule`: the drift audit (src/registry/drift.ts) on demand or in CI, and its
// Temporal Schedule (workflows/drift-audit.ts), created or updated idempotently.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptionsAction } from '@temporalio/client';
import type { Command } from 'commander';
import { REPO_ROOT, config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import {
  ENVIRONMENTS,
  type DriftReport,
  type Environment,
  auditDrift,
  isEnvironment,
  promote,
} from '../../registry/drift';
import { connectTemporal } from '../../temporal/connection';
import { EXIT_FAILURE, action, printJson } from '../output';
import { ociClientFromConfig as ociClient } from '../../oci/client';

function parseEnv(value: string): Environment {
  if (!isEnvironment(value))
    throw new WorldloopError('ERR_USAGE', `--env ${value}: expected ${ENVIRONMENTS.join(', ')}`);
  return value;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `15m`, `6h`, `1d` → milliseconds; at least one minute, so a typo cannot hammer the registry. */
export function parseInterval(value: string): number {
  const m = /^([1-9][0-9]*)(s|m|h|d)$/.exec(value.trim());
  if (!m) throw new WorldloopError('ERR_USAGE', `--every ${value}: expected a number and a unit s|m|h|d, e.g. 6h`);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms < 60_000) throw new WorldloopError('ERR_USAGE', `--every ${value}: the shortest interval is 1m`);
  return ms;
}

export function driftScheduleId(env: Environment, prefix = 'drift-audit'): string {
  return `${prefix}-${env}`;
}

export interface ScheduleResult {
  readonly scheduleId: string;
  readonly outcome: 'created' | 'updated' | 'unchanged';
  readonly everyMs: number;
}

/**
 * Creates the schedule, or brings an existing one to the wanted interval and action. Running it any
 * number of times leaves exactly one schedule per environment.
 */
export async function ensureDriftSchedule(
  client: Client,
  args: { env: Environment; everyMs: number; taskQueue: string; idPrefix?: string },
): Promise<ScheduleResult> {
  const scheduleId = driftScheduleId(args.env, args.idPrefix);
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'driftAudit',
    args: [{ env: args.env }],
    taskQueue: args.taskQueue,
    workflowId: `${args.idPrefix ?? 'drift-audit'}/${args.env}`,
  };
  const spec = { intervals: [{ every: args.everyMs }] };
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      memo: { purpose: `worldloop drift audit of ${args.env}` },
    });
    return { scheduleId, outcome: 'created', everyMs: args.everyMs };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const current = await handle.describe();
  const every = current.spec.intervals?.[0]?.every;
  const currentAction = current.action as { workflowType?: string; taskQueue?: string; args?: unknown[] };
  const same =
    current.spec.intervals?.length === 1 &&
    every === args.everyMs &&
    currentAction.workflowType === 'driftAudit' &&
    currentAction.taskQueue === args.taskQueue &&
    JSON.stringify(currentAction.args) === JSON.stringify([{ env: args.env }]);
  if (same) return { scheduleId, outcome: 'unchanged', everyMs: args.everyMs };
  await handle.update((prev) => ({ ...prev, spec, action }));
  return { scheduleId, outcome: 'updated', everyMs: args.everyMs };
}

function printReport(report: DriftReport): void {
  const rows = [
    ['processor', 'pinned', 'deployed', 'status', 'source'],
    ...report.rows.map((r) => [r.ref, short(r.pinned), short(r.deployed), r.status, r.source]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    process.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  for (const r of report.rows.filter((x) => x.status !== 'ok')) process.stdout.write(`  ${r.ref}: ${r.detail}\n`);
  const c = report.counts;
  process.stdout.write(
    `${report.env}: ${c.ok} ok, ${c.drift} drift, ${c.unpinned} unpinned, ${c.undeployed} undeployed${report.env === 'main' ? ' (main fails closed)' : ' (reported; dev and staging do not fail)'}\n`,
  );
}

function short(digest: string | null): string {
  return digest ? digest.slice(0, 19) : '-';
}

export function register(program: Command): void {
  const drift = program
    .command('drift')
    .description('Compare what each environment runs or publishes with the registry pins (digests only).');

  drift
    .command('audit')
    .description(
      'Audit one environment now: the digest behind its tag in the OCI registry and deployments/<env>.json vs the pins.',
    )
    .requiredOption('--env <env>', `environment: ${ENVIRONMENTS.join('|')}`)
    .option('--deployments <dir>', 'folder with <env>.json deployment records', join(REPO_ROOT, 'deployments'))
    .option('--json', 'print the report as one JSON object')
    .addHelpText(
      'after',
      `
Drift on dev or staging is reported and exits 0; on main anything not matching the pins exits 1
(ERR_DRIFT). See docs/supply-chain.md for what to do when it fires.

Examples:
  $ worldloop drift audit --env dev
  $ worldloop drift audit --env main --json`,
    )
    .action(
      action(async (flags: { env: string; deployments: string; json?: boolean }) => {
        const env = parseEnv(flags.env);
        const cfg = config();
        const report = await auditDrift({
          client: ociClient(cfg),
          registryDir: cfg.registryDir,
          deploymentsDir: flags.deployments,
          env,
        });
        if (flags.json) printJson({ ok: !report.failed, ...report });
        else printReport(report);
        if (report.failed) {
          if (flags.json) return EXIT_FAILURE;
          const bad = report.rows.filter((r) => r.status !== 'ok');
          throw new WorldloopError('ERR_DRIFT', `main: ${bad.map((r) => `${r.ref} ${r.status}`).join(', ')}`);
        }
      }),
    );

  drift
    .command('promote')
    .description(
      'Deploy the pinned images to an environment: move <repository>:<env> to the pinned index and record it in deployments/<env>.json.',
    )
    .argument('[refs...]', 'processor references (ns/name@major); default: all')
    .requiredOption('--env <env>', `environment: ${ENVIRONMENTS.join('|')}`)
    .option('--deployments <dir>', 'folder with <env>.json deployment records', join(REPO_ROOT, 'deployments'))
    .option('--by <name>', 'who or what promoted (recorded in the file)', userInfo().username)
    .option('--json', 'print the promoted digests as one JSON object')
    .addHelpText(
      'after',
      `
Only pins are promoted, after the same two-platform check as a build, so a promotion cannot introduce
drift; run \`worldloop drift audit --env <env>\` afterwards as the post-deploy probe.

Examples:
  $ worldloop drift promote --env dev
  $ worldloop drift promote text/stats@1 --env main --by ci`,
    )
    .action(
      action(async (refs: string[], flags: { env: string; deployments: string; by: string; json?: boolean }) => {
        const env = parseEnv(flags.env);
        const cfg = config();
        const records = await promote({
          client: ociClient(cfg),
          registryDir: cfg.registryDir,
          deploymentsDir: flags.deployments,
          env,
          refs,
          by: flags.by,
        });
        if (flags.json) printJson({ ok: true, env, promoted: records });
        else {
          for (const r of records) process.stdout.write(`${r.ref}  ${r.tag} → ${r.index}\n`);
          process.stdout.write(`recorded in ${join(flags.deployments, `${env}.json`)}\n`);
        }
      }),
    );

  drift
    .command('schedule')
    .description('Create or update the Temporal Schedule that runs the driftAudit workflow for an environment.')
    .requiredOption('--env <env>', `environment: ${ENVIRONMENTS.join('|')}`)
    .requiredOption('--every <interval>', 'interval such as 15m, 6h, 1d')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Idempotent: the schedule id is drift-audit-<env>; running the command again changes nothing unless
the interval changed. Runs appear in the Web UI as workflows drift-audit/<env>-<time>; a worker on the
worldloop task queue must register driftAudit and its activities.

Examples:
  $ worldloop drift schedule --env main --every 1h
  $ worldloop drift schedule --env dev --every 6h --json`,
    )
    .action(
      action(async (flags: { env: string; every: string; json?: boolean }) => {
        const env = parseEnv(flags.env);
        const everyMs = parseInterval(flags.every);
        const cfg = config();
        const temporal = await connectTemporal(cfg);
        try {
          const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
          const result = await ensureDriftSchedule(client, { env, everyMs, taskQueue: cfg.temporal.taskQueue });
          const link = `${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/schedules/${encodeURIComponent(result.scheduleId)}`;
          if (flags.json) printJson({ ok: true, ...result, ui: link });
          else
            process.stdout.write(`schedule ${result.scheduleId} ${result.outcome} (every ${flags.every})\n  ${link}\n`);
        } finally {
          await temporal.connection.close();
        }
      }),
    );
}
