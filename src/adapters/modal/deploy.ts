// What a deploy lane needs from Modal for one processor (issue 8 item 5, reused by `worldloop deploy`):
// the app of the naming rule, got or created, and the image of the pinned digest built in it, through the
// same control plane the adapter uses (so the image is the one runs will use, built once per digest).
import type { ModalClient } from 'modal';
import { modalAppName, type AppOwner } from './app-name';
import { ModalControlPlane } from './control-plane';

export interface DeployProcessorAppInput {
  /** `ns/name@major` */
  readonly ref: string;
  /** `<repository>@sha256:…` of the platform Modal runs (linux/amd64); a tag is ERR_IMAGE_UNPINNED. */
  readonly image: string;
  /** Whose app: the CI lane's (`{ ci: true }`) or one person's on one branch. */
  readonly owner: AppOwner;
  /** Name of the Modal secret with registry credentials (private GHCR); a name, never a value. */
  readonly pullSecret?: string;
  readonly environment?: string;
  /** Deadline of the image build, ms (default 15 min); other calls get 60 s. */
  readonly imageDeadlineMs?: number;
}

export interface DeployedProcessorApp {
  readonly appName: string;
  readonly appId: string;
  readonly imageId: string;
}

/** Gets or creates the processor's app and builds its pinned image there; every call under a deadline. */
export async function deployProcessorApp(
  client: ModalClient,
  input: DeployProcessorAppInput,
): Promise<DeployedProcessorApp> {
  const appName = modalAppName(input.ref, input.owner);
  const plane = new ModalControlPlane(client, {
    callDeadlineMs: 60_000,
    imageDeadlineMs: input.imageDeadlineMs ?? 15 * 60_000,
    ...(input.environment !== undefined ? { environment: input.environment } : {}),
  });
  const app = await plane.app(appName);
  const image = await plane.image(app, input.image, input.pullSecret);
  return { appName, appId: app.appId, imageId: image.imageId };
}
