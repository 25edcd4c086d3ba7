// The worldloop CLI. Each command lives in src/cli/commands/<command>.ts and exports `register(program)`;
// this file only wires them and turns argument mistakes into ERR_USAGE (exit 2). `buildProgram` has no
// side effects, so tests can enumerate every command; bin/worldloop.js calls `main`.
import { Command, CommanderError } from 'commander';
import { WorldloopError } from '../contracts/errors';
import { EXIT_OK, reportError } from './output';
import { WORLDLOOP_VERSION } from '../version';
// command registrations (one line each)
import { register as registerPlan } from './commands/plan';
import { register as registerWorld } from './commands/world';
import { register as registerRegistry } from './commands/registry';
import { register as registerBuild } from './commands/build';
import { register as registerPin } from './commands/pin';
import { register as registerDrift } from './commands/drift';
import { register as registerRun } from './commands/run';
import { register as registerShow } from './commands/show';
import { register as registerLs } from './commands/ls';
import { register as registerWorker } from './commands/worker';
import { register as registerPath } from './commands/path';
import { register as registerServer } from './commands/server';
import { register as registerDoctor } from './commands/doctor';
import { register as registerHash } from './commands/hash';
import { register as registerModal } from './commands/modal';
import { register as registerLogs } from './commands/logs';
import { register as registerKeys } from './commands/keys';
import { register as registerVerify } from './commands/verify';

export function buildProgram(): Command {
  const program = new Command('worldloop')
    .description('Run containerised processors as durable, audited changes to a world of artifacts, on Temporal.')
    .version(WORLDLOOP_VERSION)
    // Errors are printed once, by reportError, in the catalogue's form.
    .configureOutput({ outputError: () => undefined })
    .exitOverride();

  // register(program) calls (one line each)
  registerPlan(program);
  registerWorld(program);
  registerRegistry(program);
  registerBuild(program);
  registerPin(program);
  registerDrift(program);
  registerRun(program);
  registerShow(program);
  registerLs(program);
  registerWorker(program);
  registerPath(program);
  registerServer(program);
  registerDoctor(program);
  registerHash(program);
  registerModal(program);
  registerLogs(program);
  registerKeys(program);
  registerVerify(program);
  return program;
}

/** Parses `argv` and runs the command; the outcome is in process.exitCode. */
export async function main(argv: readonly string[]): Promise<void> {
  const json = argv.includes('--json');
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version surface as "errors" from exitOverride; they are successes.
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') {
        process.exitCode = EXIT_OK;
      } else {
        process.exitCode = reportError(new WorldloopError('ERR_USAGE', err.message.replace(/^error: /, '')), json);
      }
    } else {
      process.exitCode = reportError(err, json);
    }
  }
}
