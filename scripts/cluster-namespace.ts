// Called by scripts/cluster.sh once the frontends are healthy: registers the namespace workers use and
// worldloop's search attributes — what the embedded dev server does by itself. Idempotent. A new namespace
// reaches every frontend's cache within seconds, so the search attributes are retried until it has.
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../src/temporal/dev-server';

const [address, namespace = 'default'] = process.argv.slice(2);
if (!address) {
  console.error('usage: cluster-namespace.ts <frontend host:port> [namespace]');
  process.exit(2);
}

const connection = await Connection.connect({ address, connectTimeout: 10_000 });
try {
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('3 days'),
    });
    console.log(`registered namespace ${namespace}`);
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const added = await ensureSearchAttributes(connection, namespace);
      console.log(`search attributes: ${added.length ? `added ${added.join(', ')}` : 'all present'}`);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
} finally {
  await connection.close();
}
