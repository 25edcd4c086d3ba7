// npm run lane:digests (after `worldloop pin --check`): HEAD every pinned digest in the OCI registry.
import { config } from '../../src/config';
import { checkPinnedDigests } from '../../src/lanes/pinned-digests';
import { ociClientFromConfig } from '../../src/oci/client';
import { loadRegistry } from '../../src/registry/registry';
import { reportError } from '../../src/cli/output';

try {
  const cfg = config();
  const checks = await checkPinnedDigests(await loadRegistry(cfg.registryDir), ociClientFromConfig(cfg));
  for (const c of checks) console.log(`${c.ref}  ${c.what.padEnd(11)} ${c.digest}  served`);
  console.log(`every pinned digest (${checks.length}) is served by the registry`);
} catch (error) {
  process.exitCode = reportError(error, false);
}
