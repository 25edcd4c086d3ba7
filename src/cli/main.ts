// The worldloop CLI. Each command lives in src/cli/commands/<command>.ts and exports `register(program)`;
// this file only wires them and turns argument mistakes into ERR_USAGE (exit 2).
//
// Start-up cost is the user's first impression, so a command line loads only its own command's module: the
// command word picks one loader below. The top-level listing (`worldloop --help`, an unknown command) comes from
// the summaries the build records (dist/commands.json) without loading any command; from the sources (tests,
// bin/worldloop-dev.js) it loads them all. `buildProgram` has no side effects, so tests can enumerate every command.
import { Command, CommanderError } from 'commander';
import { WorldloopError } from '../contracts/errors';
import { EXIT_OK, reportError } from './output';
import { WORLDLOOP_VERSION } from '../version';

interface CommandModule {
  register(program: Command): void;
}

// One line per command, in the order `worldloop --help` lists them.
const COMMANDS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  plan: () => import('./commands/plan'),
  world: () => import('./commands/world'),
  registry: () => import('./commands/registry'),
  build: () => import('./commands/build'),
  pin: () => import('./commands/pin'),
  drift: () => import('./commands/drift'),
  run: () => import('./commands/run'),
  show: () => import('./commands/show'),
  ls: () => import('./commands/ls'),
  worker: () => import('./commands/worker'),
  path: () => import('./commands/path'),
  server: () => import('./commands/server'),
  doctor: () => import('./commands/doctor'),
  hash: () => import('./commands/hash'),
  modal: () => import('./commands/modal'),
  logs: () => import('./commands/logs'),
  explain: () => import('./commands/explain'),
  lineage: () => import('./commands/lineage'),
  replay: () => import('./commands/replay'),
  secrets: () => import('./commands/secrets'),
  deploy: () => import('./commands/deploy'),
  keys: () => import('./commands/keys'),
  verify: () => import('./commands/verify'),
};

/** A command as the top-level help lists it. */
export interface CommandSummary {
  readonly name: string;
  /** e.g. `run [options] <ref>` */
  readonly term: string;
  readonly description: string;
}

function baseProgram(): Command {
  return (
    new Command('worldloop')
      .description('Run containerised processors as durable, audited changes to a world of artifacts, on Temporal.')
      .version(WORLDLOOP_VERSION)
      // Errors are printed once, by reportError, in the catalogue's form.
      .configureOutput({ outputError: () => undefined })
      .exitOverride()
  );
}

async function programWith(names: readonly string[]): Promise<Command> {
  const program = baseProgram();
  const modules = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const module of modules) module.register(program);
  return program;
}

/** Every command, registered for real (this loads every command module). */
export function buildProgram(): Promise<Command> {
  return programWith(Object.keys(COMMANDS));
}

/** What the build records in dist/commands.json: the top-level listing, so printing it loads no command. */
export async function commandSummaries(): Promise<CommandSummary[]> {
  const program = await buildProgram();
  const help = program.createHelp();
  return program.commands.map((c) => ({ name: c.name(), term: help.subcommandTerm(c), description: c.description() }));
}

/** A program whose commands are only names and descriptions: for the listing, `--version` and unknown commands. */
function listingProgram(summaries: readonly CommandSummary[]): Command {
  const terms = new Map(summaries.map((s) => [s.name, s.term]));
  const program = baseProgram();
  const standard = program.createHelp();
  program.configureHelp({ subcommandTerm: (c) => terms.get(c.name()) ?? standard.subcommandTerm(c) });
  for (const s of summaries) program.command(s.name).description(s.description);
  return program;
}

/** The command a command line names (`help <command>` names its command), if any. */
function commandWord(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const word = words[0] === 'help' ? words[1] : words[0];
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? word : undefined;
}

/**
 * Parses `argv` and runs the command; the outcome is in process.exitCode. `summaries` (from the build) lets a
 * command line that names no command answer without loading any.
 */
export async function main(
  argv: readonly string[],
  opts: { summaries?: readonly CommandSummary[] } = {},
): Promise<void> {
  const json = argv.includes('--json');
  try {
    const word = commandWord(argv);
    const program = word
      ? await programWith([word])
      : opts.summaries
        ? listingProgram(opts.summaries)
        : await buildProgram();
    await program.parseAsync([...argv]);
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
