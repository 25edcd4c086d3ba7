// `worldloop show <execution_id>`: a run's status, envelope, receipt, outputs and Web UI link.
import type { Command } from 'commander';
import { config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { ExecutionIdSchema, MICRO_PER_USD, ReceiptSchema } from '../../contracts/schemas';
import { determinismPath } from '../../contracts/write-prefix';
import { EXIT_OK, action, printJson } from '../output';

export async function showCommand(executionId: string, opts: { json?: boolean }): Promise<number> {
  // A malformed id cannot name a run: say so at once, without a round trip to Temporal.
  if (!ExecutionIdSchema.safeParse(executionId).success)
    throw new WorldloopError(
      'ERR_NOT_FOUND',
      `no run with execution id ${JSON.stringify(executionId.slice(0, 64))}: not an execution id (a UUID)`,
    );
  const cfg = config();
  const [{ connectTemporal, uiLinkForWorkflow }, client, { openWorld }] = await Promise.all([
    import('../../temporal/connection'),
    import('../../temporal/client'),
    import('../../world'),
  ]);
  const temporal = await connectTemporal(cfg);
  try {
    const runs = client.runClient(temporal);
    const description = await client.describeRun(runs, executionId);
    const status = description.status.name;
    const envelope = status === 'RUNNING' ? undefined : await client.runEnvelope(client.runHandle(runs, executionId));
    const { world } = openWorld(cfg);
    const receiptPath = determinismPath(executionId);
    const receipt = (await world.stat(receiptPath))
      ? ReceiptSchema.parse(JSON.parse(new TextDecoder().decode(await world.readBytes(receiptPath))))
      : undefined;
    const link = uiLinkForWorkflow(temporal.uiUrl, temporal.namespace, description.workflowId, description.runId);
    if (opts.json) {
      printJson({ execution_id: executionId, status, envelope: envelope ?? null, receipt: receipt ?? null, ui: link });
      return EXIT_OK;
    }
    const lines = [`execution  ${executionId}`, `status     ${status}`, `history    ${link}`];
    if (envelope?.status === 'error') lines.push(`error      ${envelope.error.code}: ${envelope.error.message}`);
    if (receipt) {
      lines.push(
        `processor  ${receipt.processor_ref}  (${receipt.mode}, ${receipt.adapter}, ${receipt.platform})`,
        `image      ${receipt.image_digest}`,
        `inputs     ${receipt.inputs_hash.hash_schema}:${receipt.inputs_hash.value}`,
        `cache      ${receipt.cache.hit ? `hit, from ${receipt.cache.source_execution_id}` : 'miss'}`,
        `cost       $${(receipt.cost_micro / MICRO_PER_USD).toFixed(6)}   duration ${receipt.duration_ms} ms`,
        `receipt    ${receiptPath}`,
        `index      ${receipt.outputs_index.path}  blake3:${receipt.outputs_index.blake3}`,
        'outputs',
        ...receipt.outputs.map((o) => `  ${o.path}  ${o.size_bytes} B  blake3:${o.blake3.slice(0, 16)}…`),
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return EXIT_OK;
  } finally {
    await temporal.connection.close();
  }
}

export function register(program: Command): void {
  program
    .command('show')
    .description('Show a run: status, envelope, receipt, outputs and the Web UI link')
    .argument('<execution_id>')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ worldloop show 019ab3c2-…')
    .action(action(showCommand));
}
