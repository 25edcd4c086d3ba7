// The Modal adapter's port: the handful of operations a run needs, at the level of "an app", "an image",
// "a sandbox", "a command in it". The run logic (sandbox-run.ts) is written against this interface only,
// so every error mapping, adoption, timeout and cancel path is unit-tested with an in-memory port; the
// one real implementation (sdk-port.ts) is a thin shell over the official SDK, each call under a deadline.

/** An app, by the naming rule. */
export interface AppRef {
  readonly appId: string;
}

/** An image built from a pinned digest. */
export interface ImageRef {
  readonly imageId: string;
}

/** A named Modal secret (its values stay in Modal). */
export interface SecretRef {
  readonly secretId: string;
}

export interface SandboxSpec {
  /** The sandbox's own process: it only keeps the sandbox alive while commands run in it. */
  readonly command: readonly string[];
  readonly cpu: number;
  readonly memoryMiB: number;
  /** A multiple of 1000 (Modal's rule). */
  readonly timeoutMs: number;
  readonly blockNetwork: boolean;
  readonly tags: Readonly<Record<string, string>>;
  /** Unique among the app's running sandboxes: a second create with it fails instead of running twice. */
  readonly name: string;
}

export interface ExecOptions {
  /** Bytes written to the command's stdin, then EOF; absent leaves stdin untouched. */
  readonly stdin?: Uint8Array;
  readonly stdout: 'pipe' | 'ignore';
  readonly stderr: 'pipe' | 'ignore';
  /** Named Modal secrets set as this command's environment only (never the sandbox's). */
  readonly secrets?: readonly SecretRef[];
}

/** A command running in a sandbox; streams are binary (never a PTY). */
export interface ExecHandle {
  readonly stdout: AsyncIterable<Uint8Array>;
  readonly stderr: AsyncIterable<Uint8Array>;
  /** The exit code (128 + signal for a signal). */
  wait(): Promise<number>;
}

export interface SandboxHandle {
  readonly sandboxId: string;
  exec(command: readonly string[], opts: ExecOptions): Promise<ExecHandle>;
  /** Asks Modal to stop the sandbox; resolves once the request is accepted. */
  terminate(): Promise<void>;
  /** Waits until the sandbox has stopped; its return code (null when Modal gave none). */
  wait(): Promise<number | null>;
  /** Lets go of local resources (connections); the sandbox itself is not touched. */
  detach(): void;
}

export interface ModalPort {
  app(name: string): Promise<AppRef>;
  image(app: AppRef, ref: string, pullSecret?: string): Promise<ImageRef>;
  /** Named Modal secrets; a name Modal does not know → ERR_MISSING_SECRET. */
  secrets(names: readonly string[]): Promise<SecretRef[]>;
  /** Running sandboxes of `app` carrying every one of `tags`. */
  findSandboxes(app: AppRef, tags: Readonly<Record<string, string>>): Promise<SandboxHandle[]>;
  createSandbox(app: AppRef, image: ImageRef, spec: SandboxSpec): Promise<SandboxHandle>;
}
