// `worldloop verify <execution_id> [--reexec] [--json]`: re-check every link of what a run claims (docs/provenance.md
// §Verify). Exit 0 only when every link holds; otherwise the first broken link's code decides the exit status.
import type { Command } from 'commander';
import { config } from '../../config';
import { ERROR_CATALOGUE, WorldloopError, type ErrorCode } from '../../contracts/errors';
import { ExecutionIdSchema } from '../../contracts/schemas';
import { EXIT_OK, action, exitCodeFor, printJson } from '../output';

interface VerifyOptions {
  reexec?: boolean;
  allowReal?: boolean;
  key?: string;
  json?: boolean;
}

async function verifyCommand(executionId: string, opts: VerifyOptions): Promise<number> {
  if (!ExecutionIdSchema.safeParse(executionId).success)
    throw new WorldloopError(
      'ERR_NOT_FOUND',
      `no run with execution id ${JSON.stringify(executionId.slice(0, 64))}: not an execution id (a UUID)`,
    );
  if (opts.allowReal && !opts.reexec) throw new WorldloopError('ERR_USAGE', '--allow-real only applies to --reexec');
  const cfg = config();
  const [{ connectTemporal }, { verifyExecution }] = await Promise.all([
    import('../../temporal/connection'),
    import('../../temporal/verify-execution'),
  ]);
  const temporal = await connectTemporal(cfg);
  let result;
  try {
    result = await verifyExecution(cfg, temporal, executionId, {
      reexec: opts.reexec === true,
      allowReal: opts.allowReal === true,
      ...(opts.key ? { keyFile: opts.key } : {}),
    });
  } finally {
    await temporal.connection.close();
  }
  const failures: ErrorCode[] = result.links.flatMap((l) => (l.code ? [l.code] : []));
  if (result.reexec && !result.reexec.ok) failures.push('ERR_NONDETERMINISTIC');
  const { receipt: _receipt, ...shown } = result;
  if (opts.json) {
    printJson({ ...shown, code: failures[0] ?? null });
  } else {
    const lines = [`execution  ${executionId}  (key ${result.keyid})`];
    for (const l of result.links)
      lines.push(`${l.ok ? '✓' : '✗'} ${l.link.padEnd(15)}${l.code ? `${l.code}: ` : ''}${l.detail}`);
    if (result.reexec) {
      const r = result.reexec;
      lines.push(
        `${r.ok ? '✓' : '✗'} ${'reexec'.padEnd(15)}${r.ok ? '' : 'ERR_NONDETERMINISTIC: '}fresh container ${r.reexec_execution_id} (${r.mode})`,
      );
      for (const f of r.files) lines.push(`    ${f.verdict.padEnd(10)}${f.path}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    for (const code of new Set(failures)) {
      process.stderr.write(`${code}\n  why: ${ERROR_CATALOGUE[code].explanation}\n  ${ERROR_CATALOGUE[code].action}\n`);
    }
  }
  return failures.length === 0 ? EXIT_OK : exitCodeFor(failures[0]!);
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('Re-check a run: receipt copies, Temporal history, outputs, plan ledger, signed attestation')
    .argument('<execution_id>')
    .option('--reexec', 're-run the same image digest with the same inputs in a fresh container and compare outputs')
    .option('--allow-real', 'with --reexec: re-run a real-mode run for real (calls the provider again)')
    .option('--key <pem>', 'verify the attestation with this public key PEM instead of the local signing key')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ worldloop verify 019ab3c2-…\n  $ worldloop verify 019ab3c2-… --reexec --json',
    )
    .action(action(verifyCommand));
}
