/**
 * Environment settings (`spikeloop run --env-set key=value`). Every environment refuses a key it
 * does not know the same way: a misspelt setting would otherwise be ignored and the run measure
 * something else than asked.
 */
import { ConfigError } from './schema.js';

export function checkSettingKeys(
  environment: string,
  settings: Readonly<Record<string, unknown>> | undefined,
  known: readonly string[],
): void {
  for (const key of Object.keys(settings ?? {})) {
    if (!known.includes(key)) {
      throw new ConfigError(
        `${environment} environment: unknown setting "${key}"; expected ${known.join(', ')}`,
      );
    }
  }
}
