// The version every receipt and log line reports comes from the repository's package.json, read once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { WORLDLOOP_VERSION } from '../../src/version';

describe('WORLDLOOP_VERSION', () => {
  it("is the repository package.json's version", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(WORLDLOOP_VERSION).toBe(pkg.version);
    expect(WORLDLOOP_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});
