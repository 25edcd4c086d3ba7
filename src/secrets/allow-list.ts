// secrets.allow.yaml: the one list of secret names, shared by GitHub and Modal secret sync (docs/architecture.md §9).
// It holds names only. The loader is strict so that a value pasted by mistake is refused, never loaded,
// and never echoed: error messages name the position of a problem, not its content.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { WorldloopError } from '../contracts/errors';
import { SecretNameSchema } from '../contracts/schemas';
import { redactCredentialPatterns } from '../log/patterns';
import { firstIssue } from '../contracts/zod-issue';

const AllowListSchema = z.strictObject({ secrets: z.array(SecretNameSchema) });

/**
 * Reads and validates the allow-list. Refuses (ERR_CONFIG_INVALID) a missing or unreadable file, YAML
 * that does not parse, anything but `secrets:` with a list of upper-case names, duplicate names, and any
 * text — comments included — that looks like a credential.
 */
export function loadAllowList(file: string): ReadonlySet<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new WorldloopError('ERR_CONFIG_INVALID', `secrets allow-list ${file} cannot be read (${code})`);
  }
  return parseAllowList(text, file);
}

/** The pure half of loadAllowList, for callers (and tests) that already hold the text. */
export function parseAllowList(text: string, source = 'secrets.allow.yaml'): ReadonlySet<string> {
  const invalid = (why: string) =>
    new WorldloopError('ERR_CONFIG_INVALID', `secrets allow-list ${source}: ${why}; it must hold names only`);

  // Comments are dropped by the parser, so look at the raw text first: a key pasted into a comment is
  // still a key committed to the repository.
  const lines = text.split(/\r?\n/);
  const leaking = lines.findIndex((line) => redactCredentialPatterns(line) !== line);
  if (leaking >= 0) throw invalid(`line ${leaking + 1} looks like it contains a credential`);

  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The parser's own message quotes the offending line, which may be the value we must not print.
    const first = doc.errors[0]!;
    const line = first.linePos?.[0].line;
    throw invalid(`not valid YAML (${first.code}${line === undefined ? '' : ` at line ${line}`})`);
  }
  const parsed = AllowListSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const { where, message } = firstIssue(parsed.error, 'top level');
    throw invalid(`${where}: ${message}`);
  }
  const names = parsed.data.secrets;
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw invalid(`${name} is listed twice`);
    seen.add(name);
  }
  return seen;
}
