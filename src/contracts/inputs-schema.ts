// Input validation against a processor's JSON Schema (the registry entry's `inputs`). A contract, not a kit
// detail: the container (the kit), the control plane (Admit) and registry validation (do the schemas
// compile?) must all use this one dialect, so they refuse exactly the same inputs (docs/adr/0004).
// Not re-exported from src/contracts/index.ts: workflows import that index, and Ajv compiles with
// `new Function`, which has no place in the workflow sandbox.
// Dialect: JSON Schema 2020-12 (Ajv2020, as Admit and the predicates use); registry schemas stay in the
// subset draft-07 and 2020-12 agree on and carry no `$schema`.
import type { CodeOptions, ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { WorldloopError } from './errors';

export type InputsValidator = (inputs: unknown) => void;

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath;
  // Names of unexpected keys help the user; values never appear in ajv messages.
  const extra =
    e.keyword === 'additionalProperties'
      ? ` (${JSON.stringify(String((e.params as { additionalProperty?: unknown }).additionalProperty).slice(0, 64))})`
      : '';
  return `${where} ${e.message ?? 'is invalid'}${extra}`;
}

/**
 * Compiles an input schema. A schema that does not compile is a registry problem (ERR_REGISTRY_INVALID),
 * not the caller's; the returned validator throws ERR_INPUTS naming every failing place (at most 5).
 */
export function compileInputsSchema(
  schema: Record<string, unknown>,
  label = 'inputs',
  options: { regExp?: CodeOptions['regExp'] } = {},
): InputsValidator {
  // The worker and the registry pass a linear-time engine (./linear-regexp.ts); the container keeps V8's.
  const code = options.regExp ? { regExp: options.regExp } : {};
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, code });
  addFormats(ajv);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    throw new WorldloopError(
      'ERR_REGISTRY_INVALID',
      `${label}: not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return (inputs: unknown): void => {
    if (validate(inputs)) return;
    const errors = validate.errors ?? [];
    const shown = errors.slice(0, 5).map(describe);
    const more = errors.length > 5 ? `; and ${errors.length - 5} more` : '';
    throw new WorldloopError('ERR_INPUTS', `inputs do not match the processor schema: ${shown.join('; ')}${more}`);
  };
}
