// The generated reference docs of the fast lane's docs check: docs/reference/cli.md from the commander
// program (every command, its arguments, options and help text) and docs/reference/errors.md from the error
// catalogue. Pure: the caller hands in the program and the catalogue and writes or compares the files, so a
// command or code added without its documentation, or docs left stale, fail the check.
import type { Command, Option } from 'commander';
import type { ErrorSpec } from '../contracts/errors';

export interface ReferenceDoc {
  /** Relative to docs/reference/. */
  readonly file: string;
  readonly text: string;
}

const HEADER = (what: string, command: string) =>
  `<!-- Generated from ${what} by \`${command}\`; do not edit by hand (the fast lane's docs check compares). -->\n\n`;

/** Leaf and group commands, depth first, in registration order, with their full names. */
export function commandsOf(program: Command): { name: string; command: Command }[] {
  const out: { name: string; command: Command }[] = [];
  const walk = (cmd: Command, prefix: string) => {
    for (const sub of cmd.commands) {
      const name = `${prefix}${sub.name()}`;
      out.push({ name, command: sub });
      walk(sub, `${name} `);
    }
  };
  walk(program, '');
  return out;
}

function usageOf(name: string, cmd: Command): string {
  const args = cmd.registeredArguments
    .map((a) => {
      const inner = `${a.name()}${a.variadic ? '...' : ''}`;
      return a.required ? `<${inner}>` : `[${inner}]`;
    })
    .join(' ');
  return `worldloop ${name}${args ? ` ${args}` : ''}${cmd.options.length > 0 ? ' [options]' : ''}`;
}

/**
 * Defaults computed on the machine (the checkout's absolute path, the login name) would make the file differ
 * between clones; they are written as placeholders.
 */
export interface MachineFacts {
  readonly repoRoot: string;
  readonly userName: string;
}

function optionRow(o: Option, facts: MachineFacts): string {
  const shown =
    o.defaultValue === undefined
      ? undefined
      : String(o.defaultValue) === facts.userName
        ? '<login name>'
        : String(o.defaultValue).split(facts.repoRoot).join('<repo>');
  const dflt = shown === undefined ? '' : ` (default: \`${shown}\`)`;
  const mandatory = o.mandatory ? ' **required**' : '';
  return `| \`${o.flags.replace(/\|/g, '\\|')}\` | ${escapeCell(o.description)}${mandatory}${dflt} |`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The "after" help text commander keeps for a command (examples and notes), if any. */
function afterHelp(cmd: Command): string {
  let text = '';
  // outputHelp would write to the terminal; helpInformation() omits addHelpText blocks, so capture them.
  const capture = cmd.configureOutput();
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  try {
    cmd.outputHelp();
  } finally {
    cmd.configureOutput(capture);
  }
  const base = cmd.helpInformation();
  return text.startsWith(base) ? text.slice(base.length).trim() : '';
}

export function cliReference(program: Command, facts: MachineFacts): ReferenceDoc {
  const parts = [HEADER('the commander program (src/cli/main.ts)', 'npm run docs:reference'), '# CLI reference\n'];
  parts.push(
    `\n${program.description()}\n\nEvery command takes \`--help\`. Exit codes: 0 success, 2 bad input, 1 anything else.\n`,
  );
  for (const { name, command } of commandsOf(program)) {
    parts.push(`\n## worldloop ${name}\n\n${command.description()}\n\n\`\`\`\n${usageOf(name, command)}\n\`\`\`\n`);
    if (command.options.length > 0) {
      parts.push(
        '\n| option | meaning |\n| --- | --- |\n',
        command.options.map((o) => optionRow(o, facts)).join('\n'),
        '\n',
      );
    }
    const after = afterHelp(command);
    if (after) parts.push(`\n\`\`\`\n${after}\n\`\`\`\n`);
  }
  return { file: 'cli.md', text: parts.join('') };
}

export function errorsReference(catalogue: Readonly<Record<string, ErrorSpec>>): ReferenceDoc {
  const parts = [HEADER('src/contracts/errors.ts', 'npm run docs:reference'), '# Error codes\n'];
  parts.push(
    '\nEvery code worldloop emits, from the append-only catalogue. Exit code: 2 for `input`, 1 otherwise. ' +
      'A retryable code may succeed when tried again unchanged.\n',
  );
  for (const [code, spec] of Object.entries(catalogue)) {
    parts.push(
      `\n## ${code}\n\n- kind: \`${spec.kind}\`, retryable: \`${spec.retryable}\`\n- ${spec.explanation}\n- ${spec.action}\n`,
    );
  }
  return { file: 'errors.md', text: parts.join('') };
}

/**
 * What the docs check refuses besides stale files: a command without a description, a code without an
 * explanation or a "To fix:" action, and a top-level command the README's command list does not name.
 */
export function documentationGaps(
  program: Command,
  catalogue: Readonly<Record<string, ErrorSpec>>,
  readme: string,
): string[] {
  const gaps: string[] = [];
  for (const { name, command } of commandsOf(program)) {
    if (command.description().trim() === '') gaps.push(`command "worldloop ${name}" has no description`);
  }
  for (const [code, spec] of Object.entries(catalogue)) {
    if (spec.explanation.trim() === '') gaps.push(`${code} has no explanation`);
    if (!spec.action.startsWith('To fix:')) gaps.push(`${code}: its action does not start with "To fix:"`);
  }
  const commandList = /## Commands\s*```([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  for (const cmd of program.commands) {
    if (!new RegExp(`(^worldloop |\\| )${cmd.name()}\\b`, 'm').test(commandList))
      gaps.push(`README.md's command list does not name "worldloop ${cmd.name()}"`);
  }
  return gaps;
}
