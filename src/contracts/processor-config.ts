// The `config` section of a registry entry (ADR 0009): the non-secret settings a processor reads (a provider
// base URL, an organisation id, a timeout), the form each value must have, and where the worker takes it
// from. Only declared names reach the container, as /work/config.json; a value that is set changes the
// run's env_fingerprint and so its cache key. Secrets never travel this way: they stay under `secrets` and
// arrive as files under /run/secrets.
import { z } from 'zod';

/** Upper-case, environment-style, like secret names; also the key the processor reads in config.json. */
export const ConfigNameSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,127}$/, 'expected an upper-case environment-style name');

// A name that says "credential" belongs under `secrets`: a key read from a config variable would be
// written to config.json, the Temporal history and the fingerprint's inputs in the clear.
const CREDENTIAL_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|COOKIE|AUTHORIZATION)$/;

const NonSecretNameSchema = ConfigNameSchema.refine(
  (name) => !CREDENTIAL_NAME.test(name),
  'names a credential; declare it under secrets instead',
);

const common = {
  description: z.string().min(1),
  /** Where the worker reads the value: one of its environment variables (through src/config.ts). */
  from: z.strictObject({ env: NonSecretNameSchema }),
};

export const ConfigSettingSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('url'),
    /** Allowed schemes; user-info, a query and a fragment are always refused. */
    schemes: z
      .array(z.enum(['https', 'http']))
      .min(1)
      .default(['https']),
    ...common,
  }),
  z.strictObject({
    type: z.literal('string'),
    /** Matched against the whole value. */
    pattern: z.string().min(1).optional(),
    max_length: z.number().int().min(1).max(4096).default(256),
    ...common,
  }),
  z.strictObject({
    type: z.literal('integer'),
    minimum: z.number().int(),
    maximum: z.number().int(),
    ...common,
  }),
  z.strictObject({ type: z.literal('boolean'), ...common }),
]);
export type ConfigSetting = z.infer<typeof ConfigSettingSchema>;

export const ProcessorConfigSchema = z.record(NonSecretNameSchema, ConfigSettingSchema).superRefine((config, ctx) => {
  const sources = new Map<string, string>();
  for (const [name, setting] of Object.entries(config)) {
    const other = sources.get(setting.from.env);
    if (other !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'from', 'env'],
        message: `${setting.from.env} already feeds ${other}`,
      });
    }
    sources.set(setting.from.env, name);
    if (setting.type === 'integer' && setting.minimum > setting.maximum) {
      ctx.addIssue({ code: 'custom', path: [name, 'maximum'], message: 'is below minimum' });
    }
    if (setting.type === 'string' && setting.pattern !== undefined) {
      try {
        new RegExp(setting.pattern, 'u');
      } catch {
        ctx.addIssue({ code: 'custom', path: [name, 'pattern'], message: 'is not a valid regular expression' });
      }
    }
  }
});
export type ProcessorConfig = z.infer<typeof ProcessorConfigSchema>;

/** What a processor receives in /work/config.json: declared names only, values in their declared form. */
export type ConfigValues = Record<string, string | number | boolean>;
