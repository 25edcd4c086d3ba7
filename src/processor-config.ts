// The worker side of a registry entry's `config` section (ADR 0009): reads each declared setting from the
// worker's environment (Config.processorConfigEnv; only src/config.ts looks at process.env), checks it
// against its declared form and returns declared names only. Unset settings are left out, so the
// processor applies its own default and the run's env_fingerprint stays what it was before settings
// existed. Messages name the variable, never its value: a value in the wrong variable may be a secret.
import { WorldloopError } from './contracts/errors';
import type { ConfigSetting, ConfigValues, ProcessorConfig } from './contracts/processor-config';

export function resolveProcessorConfig(
  ref: string,
  declared: ProcessorConfig,
  env: Readonly<Record<string, string | undefined>>,
): ConfigValues {
  const values: ConfigValues = {};
  for (const name of Object.keys(declared).sort()) {
    const setting = declared[name]!;
    const raw = env[setting.from.env];
    // An empty variable is unset, as for secrets: nobody means "base URL = empty".
    if (raw === undefined || raw === '') continue;
    values[name] = parseSetting(setting, raw, `${setting.from.env} (setting ${name} of ${ref})`);
  }
  return values;
}

function parseSetting(setting: ConfigSetting, raw: string, where: string): string | number | boolean {
  const bad = (why: string): never => {
    throw new WorldloopError('ERR_CONFIG_INVALID', `${where}: ${why}`);
  };
  switch (setting.type) {
    case 'url': {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return bad('is not an absolute URL');
      }
      const scheme = url.protocol.slice(0, -1);
      if (!(setting.schemes as readonly string[]).includes(scheme)) {
        return bad(`must use ${setting.schemes.join(' or ')}, not ${scheme}`);
      }
      if (url.username || url.password) return bad('may not carry credentials (user-info); use a secret');
      if (url.search || url.hash) return bad('may not carry a query or a fragment');
      return raw;
    }
    case 'string':
      if (raw.length > setting.max_length) return bad(`is longer than ${setting.max_length} characters`);
      if (setting.pattern !== undefined && !new RegExp(`^(?:${setting.pattern})$`, 'u').test(raw)) {
        return bad(`does not match ${setting.pattern}`);
      }
      return raw;
    case 'integer': {
      if (!/^-?[0-9]{1,16}$/.test(raw)) return bad('is not an integer');
      const n = Number(raw);
      if (n < setting.minimum || n > setting.maximum) {
        return bad(`must be between ${setting.minimum} and ${setting.maximum}`);
      }
      return n;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return bad('must be true, false, 1 or 0');
  }
}
