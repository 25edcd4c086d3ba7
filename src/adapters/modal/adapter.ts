// The Modal adapter (docs/architecture.md §8, issue 8): the same keyword-only `invoke` as the local adapter,
// one sandbox per execution on Modal through the official SDK. The worker bootstrap builds one per worker
// (createModalAdapterFromConfig) around its one ModalClient; tests build one around any ModalPort.
import type { Config } from '../../config';
import type { Adapter, InvokeArgs, InvokeControl } from '../adapter';
import type { AdapterLogger } from '../docker/deps';
import type { AppOwner } from './app-name';
import { createModalClient, type ModalClientHandle } from './client';
import { ModalControlPlane } from './control-plane';
import { ModalRun, type ModalAdapterDeps } from './sandbox-run';
import { SdkModalPort } from './sdk-port';

export function createModalAdapter(deps: ModalAdapterDeps): Adapter {
  return {
    name: 'modal',
    invoke: async (args: InvokeArgs, ctl?: InvokeControl) => new ModalRun(deps, args, ctl ?? {}).run(),
  };
}

/** Deadlines of the SDK calls a run makes (ms); an image build from a large registry image takes minutes. */
export const MODAL_DEADLINES = { callMs: 60_000, imageMs: 15 * 60_000, stopMs: 30_000 } as const;

export interface ModalAdapterSetup {
  readonly adapter: Adapter;
  readonly handle: ModalClientHandle;
}

/**
 * The worker's Modal adapter from config: credentials resolved offline first (ERR_ADAPTER_AUTH when there
 * are none), then one ModalClient, one control plane (apps, images cached per digest) and the SDK port.
 */
export function createModalAdapterFromConfig(
  cfg: Config['modal'],
  opts: { appOwner: AppOwner; pullSecret?: string; redact?: (s: string) => string; logger?: AdapterLogger },
): ModalAdapterSetup {
  const handle = createModalClient(cfg);
  const plane = new ModalControlPlane(handle.client, {
    callDeadlineMs: MODAL_DEADLINES.callMs,
    imageDeadlineMs: MODAL_DEADLINES.imageMs,
    ...(cfg.environment !== undefined ? { environment: cfg.environment } : {}),
  });
  const port = new SdkModalPort(handle.client, plane, {
    callDeadlineMs: MODAL_DEADLINES.callMs,
    stopDeadlineMs: MODAL_DEADLINES.stopMs,
  });
  return { adapter: createModalAdapter({ port, ...opts }), handle };
}
