// Where the embedded dev server listens: light (no SDK), for the commands that only need the address.
import type { Config } from '../config';

export function devServerAddress(cfg: Config): string {
  return `127.0.0.1:${cfg.temporal.devPort}`;
}

export function devServerUiUrl(cfg: Config): string {
  return `http://127.0.0.1:${cfg.temporal.uiPort}`;
}
