// The Modal objects a run needs before its sandbox: the app (by the naming rule) and the image of the
// pinned digest. One ModalControlPlane per worker, around the worker's one ModalClient.
//
// Images are built once per digest and cached for the life of the worker: Modal rate-limits image
// creation, and a digest names immutable bytes, so a second build could only ever give the same image.
// A failed lookup is not cached, so the next run (or an activity retry) asks again.
import type { App, Image, ModalClient } from 'modal';
import { WorldloopError } from '../../contracts/errors';
import { PinnedImageSchema } from '../../contracts/schemas';
import { withDeadline } from './errors';

export interface ModalControlPlaneOptions {
  /** Deadline of each SDK call, in ms (an image build from a large registry image can take minutes). */
  readonly callDeadlineMs: number;
  readonly imageDeadlineMs: number;
  /** Modal environment; undefined means the profile's default. */
  readonly environment?: string;
}

export class ModalControlPlane {
  readonly #client: ModalClient;
  readonly #opts: ModalControlPlaneOptions;
  readonly #apps = new Map<string, Promise<App>>();
  readonly #images = new Map<string, Promise<Image>>();

  constructor(client: ModalClient, opts: ModalControlPlaneOptions) {
    this.#client = client;
    this.#opts = opts;
  }

  /** The app of this name, created when missing. */
  app(name: string): Promise<App> {
    return this.#cached(this.#apps, name, () =>
      withDeadline('app', this.#opts.callDeadlineMs, () =>
        this.#client.apps.fromName(name, { createIfMissing: true, environment: this.#opts.environment }),
      ),
    );
  }

  /**
   * The image of `ref` (`<repository>@sha256:…` only; a tag is refused with ERR_IMAGE_UNPINNED), built in
   * `app`. `pullSecret` names a Modal secret holding REGISTRY_USERNAME/REGISTRY_PASSWORD for a private
   * registry (GHCR); it is a name from the allow-list, never a value.
   */
  image(app: App, ref: string, pullSecret?: string): Promise<Image> {
    if (!PinnedImageSchema.safeParse(ref).success) {
      return Promise.reject(
        new WorldloopError('ERR_IMAGE_UNPINNED', `${JSON.stringify(ref.slice(0, 200))} is not <repository>@sha256:…`),
      );
    }
    return this.#cached(this.#images, `${ref}\n${pullSecret ?? ''}`, async () => {
      const secret =
        pullSecret === undefined
          ? undefined
          : // Stage 'image': a pull secret that is missing or refused means the image cannot be pulled.
            await withDeadline('image', this.#opts.callDeadlineMs, () => this.#client.secrets.fromName(pullSecret));
      const image = this.#client.images.fromRegistry(ref, secret);
      return withDeadline('image', this.#opts.imageDeadlineMs, () => image.build(app));
    });
  }

  #cached<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit) return hit;
    const made = make();
    map.set(key, made);
    made.catch(() => map.delete(key));
    return made;
  }
}
