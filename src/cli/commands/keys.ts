// `worldloop keys init|show`: the Ed25519 key attestations are signed with (docs/provenance.md §Keys). The
// private key never leaves its file; `show --public` prints the SPKI PEM that cosign and `verify --key` read.
import type { Command } from 'commander';
import { config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { EXIT_OK, action, printJson } from '../output';

function keySummary(key: { keyid: string; source: string; publicPem: string }, created?: boolean) {
  return {
    keyid: key.keyid,
    algorithm: 'ed25519',
    source: key.source,
    ...(created === undefined ? {} : { created }),
    public_key_pem: key.publicPem,
  };
}

async function initCommand(opts: { json?: boolean }): Promise<number> {
  const cfg = config();
  if (cfg.signingKeySecret) {
    throw new WorldloopError(
      'ERR_USAGE',
      `WORLDLOOP_SIGNING_KEY_SECRET=${cfg.signingKeySecret} names the key; keys init creates only the state-folder key (unset it first)`,
    );
  }
  const { defaultKeyFile, initKeyFile } = await import('../../provenance');
  const { key, created } = await initKeyFile(defaultKeyFile(cfg.stateDir));
  if (opts.json) printJson(keySummary(key, created));
  else
    process.stdout.write(
      `${created ? 'created' : 'kept the existing'} signing key ${key.keyid}\n  private  ${key.source} (mode 0600)\n  public   worldloop keys show --public\n`,
    );
  return EXIT_OK;
}

async function showCommand(opts: { json?: boolean; public?: boolean }): Promise<number> {
  const cfg = config();
  const { configuredSigningKey } = await import('../../temporal/signing-key');
  const key = await configuredSigningKey(cfg);
  if (opts.json) printJson(keySummary(key));
  else if (opts.public) process.stdout.write(key.publicPem);
  else process.stdout.write(`keyid      ${key.keyid}\nalgorithm  ed25519\nsource     ${key.source}\n`);
  return EXIT_OK;
}

export function register(program: Command): void {
  const keys = program.command('keys').description('The Ed25519 key that signs run attestations');
  keys
    .command('init')
    .description('Create the signing key under the state folder (mode 0600) unless it exists')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ worldloop keys init')
    .action(action(initCommand));
  keys
    .command('show')
    .description('Show the signing key id; --public prints the public key PEM (for cosign and verify --key)')
    .option('--public', 'print the public key as PEM')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ worldloop keys show\n  $ worldloop keys show --public > worldloop.pub')
    .action(action(showCommand));
}
