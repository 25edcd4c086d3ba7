// A live smoke test of the Modal adapter's control plane, by hand (docs/modal-adapter.md): resolves the
// credentials, gets the app `<user>-smoke-<ns>-<name>-v<major>` and builds the image of one pinned digest.
//   npx tsx scripts/modal-smoke.ts <ref ns/name@major> <repository>@sha256:<digest> [pull-secret-name]
import { userInfo } from 'node:os';
import { loadConfig } from '../src/config';
import { reportError } from '../src/cli/output';
import { ModalControlPlane, createModalClient, modalAppName } from '../src/adapters/modal/index';

async function main(): Promise<void> {
  const [ref, image, pullSecret] = process.argv.slice(2);
  if (ref === undefined || image === undefined) {
    process.stderr.write(
      'usage: npx tsx scripts/modal-smoke.ts <ns/name@major> <repository>@sha256:<digest> [pull-secret]\n',
    );
    process.exitCode = 2;
    return;
  }
  const { client, credentialSource } = createModalClient(loadConfig().modal);
  try {
    const plane = new ModalControlPlane(client, { callDeadlineMs: 30_000, imageDeadlineMs: 600_000 });
    const appName = modalAppName(ref, { ci: false, user: userInfo().username, branch: 'smoke' });
    const t0 = Date.now();
    const app = await plane.app(appName);
    const built = await plane.image(app, image, pullSecret);
    process.stdout.write(
      `${JSON.stringify({ credentials: credentialSource, app: appName, app_id: app.appId, image_id: built.imageId, ms: Date.now() - t0 })}\n`,
    );
  } finally {
    client.close();
  }
}

main().catch((err: unknown) => {
  process.exitCode = reportError(err, false);
});
