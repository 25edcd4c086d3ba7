// A linear-time regex engine for Ajv's `code.regExp` (issue 14 item 4). Schema `pattern`s run on the
// worker's event loop; V8's backtracking engine took 12.6 s for `^(a+)+$` against 28 `a`s and `!`. RE2
// (re2js: pure JavaScript, no native build) matches in time linear in the input, and refuses at compile
// time what it cannot match that way (backreferences, lookaround) — so the registry refuses such a
// pattern when it loads. Pure: no I/O. Not re-exported from ./index.ts (workflows import that index).
import type { CodeOptions } from 'ajv';
import { RE2JS } from 're2js';

export const linearRegExp: NonNullable<CodeOptions['regExp']> = Object.assign(
  (pattern: string, flags: string) => {
    const re = RE2JS.compile(pattern);
    // Ajv keys compiled patterns by toString(): it must differ per pattern, as a RegExp's does.
    return { test: (s: string) => re.matcher(s).find(), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'linearRegExp' },
);
