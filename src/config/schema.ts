/** JSON-schema validation (ajv) with errors that name the offending key and the file it came from. */
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';

export class SchemaError extends Error {
  override name = 'SchemaError';
}

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? '(top level)' : error.instancePath.slice(1).replaceAll('/', '.');
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const where = error.instancePath === '' ? '' : ` in ${at}`;
      return `unknown key "${key}"${where}`;
    }
    case 'required':
      return `${at}: missing required key "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'enum':
      return `${at}: must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at}: ${error.message ?? 'is invalid'}`;
  }
}

/**
 * Compiles a schema into a checker that throws a SchemaError listing every problem
 * (`source` names the file or object, e.g. "grid.yaml").
 */
export function schemaChecker<T>(schema: SchemaObject): (value: unknown, source: string) => T {
  const validate = ajv.compile(schema);
  return (value, source) => {
    if (validate(value)) return value as T;
    // anyOf/oneOf report every branch; the specific errors underneath say more than the summary.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
    const messages = [...new Set((errors.length > 0 ? errors : (validate.errors ?? [])).map(describe))];
    throw new SchemaError(`${source}: ${messages.join('; ')}`);
  };
}
