// `worldloop deploy --env E` (the deploy lane): for every processor, the Modal app by the CI naming rule
// (<ns>-<name>-v<major>) and the pinned linux/amd64 image built there by digest, then the rollout recorded in
// deployments/<env>.json, where the drift audit reads it. Every pin is checked before the first Modal call,
// so a tag or a missing pin (ERR_IMAGE_UNPINNED) creates nothing.
import type { ModalClient } from 'modal';
import { modalAppName } from '../adapters/modal/app-name';
import { deployProcessorApp } from '../adapters/modal/deploy';
import type { Environment } from '../registry/drift';
import { pinnedImage, type Registry } from '../registry/registry';

/** Modal runs linux/amd64. */
export const MODAL_PLATFORM = 'amd64' as const;

export interface DeployTarget {
  readonly ref: string;
  readonly app: string;
  /** `<repository>@sha256:…` */
  readonly image: string;
}

export interface Deployed extends DeployTarget {
  readonly appId: string;
  readonly imageId: string;
}

/** What to deploy, refusing the whole deploy on the first processor without a digest pin. */
export function deployTargets(registry: Registry): DeployTarget[] {
  return [...registry.values()]
    .map(({ entry }) => ({
      ref: entry.ref,
      app: modalAppName(entry.ref, { ci: true }),
      image: pinnedImage(entry, MODAL_PLATFORM),
    }))
    .sort((a, b) => a.ref.localeCompare(b.ref));
}

/** One processor at a time, through the adapter's own deploy step (the control plane runs use). */
export async function deployToModal(
  targets: readonly DeployTarget[],
  client: ModalClient,
  opts: { environment?: string; pullSecret?: string } = {},
): Promise<Deployed[]> {
  const deployed: Deployed[] = [];
  for (const t of targets) {
    const d = await deployProcessorApp(client, { ref: t.ref, image: t.image, owner: { ci: true }, ...opts });
    deployed.push({ ...t, app: d.appName, appId: d.appId, imageId: d.imageId });
  }
  return deployed;
}

/** deployments/<env>.json entries for what was rolled out (the amd64 digest Modal runs). */
export function deploymentRecords(deployed: readonly Deployed[], by: string, at: Date) {
  return Object.fromEntries(
    deployed.map((d) => [d.ref, { platforms: { [MODAL_PLATFORM]: d.image }, deployed_at: at.toISOString(), by }]),
  );
}

export type { Environment };
