/**
 * The one JSON-schema validator of the project (Ajv). Every configuration file and document (sweep
 * and targets files, params files, hardware profiles, robot params, arena configs, latency
 * reports) is checked through it, and every problem is said the same way: the file, the key path
 * (`sensors[0].sectors`, as the codec and the arena name keys) and what is wrong with which value.
 *
 * Schemas are written with TypeBox, so the TypeScript type of a checked value is derived from its
 * schema (`Static<typeof Schema>`) instead of being written a second time by hand.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { describeValue } from './checks.js';

/** A configuration value is invalid; the message names its source and, where known, the key path. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "source: path: detail", or "source: detail" for the whole document. */
export function located(source: string, path: string, detail: string): string {
  return path === '' ? `${source}: ${detail}` : `${source}: ${path}: ${detail}`;
}

/** A JSON pointer (`/sensors/0/sectors`) as a key path (`sensors[0].sectors`). */
export function keyPath(pointer: string): string {
  let path = '';
  for (const token of pointer.split('/').slice(1)) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(key) ? `[${key}]` : path === '' ? key : `.${key}`;
  }
  return path;
}

// strict: every schema keyword must be known, and numbers must be finite (strictNumbers: NaN and
// ±Infinity fail type number). allErrors: a file with three mistakes is fixed in one round.
// verbose: the bad value is in the error, so the message can quote it. discriminator: a tagged
// union (a ROS 2 message type) reports a wrong tag instead of every branch's mismatch.
const ajv = new Ajv({
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
  allErrors: true,
  verbose: true,
  discriminator: true,
});
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);

/** One problem of a document: where (key path, '' for the whole) and what. */
export interface SchemaProblem {
  path: string;
  detail: string;
}

const SYMBOL: Record<string, string> = { '>=': '≥', '<=': '≤', '>': '>', '<': '<' };

function problem(error: ErrorObject): SchemaProblem {
  const path = keyPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const got = `, got ${describeValue(error.data)}`;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path, detail: `unknown key "${String(params.additionalProperty)}"` };
    case 'required':
      return { path, detail: `missing required key "${String(params.missingProperty)}"` };
    case 'enum':
      return {
        path,
        detail: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got}`,
      };
    case 'const':
      return { path, detail: `must be ${JSON.stringify(params.allowedValue)}${got}` };
    case 'type': {
      const type = String(params.type);
      // Numbers are finite (strictNumbers): NaN and Infinity are turned away with this message too.
      const noun = `${type === 'number' || type === 'integer' ? 'finite ' : ''}${type.replaceAll(',', ' or ')}`;
      return { path, detail: `must be ${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}${got}` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        path,
        detail: `must be ${SYMBOL[String(params.comparison)] ?? ''} ${String(params.limit)}${got}`,
      };
    case 'minItems':
      return {
        path,
        detail: `must have at least ${String(params.limit)} ${params.limit === 1 ? 'entry' : 'entries'}${got}`,
      };
    case 'maxItems':
      return { path, detail: `must have at most ${String(params.limit)} entries${got}` };
    case 'minProperties':
      return {
        path,
        detail: `must have at least ${String(params.limit)} key${params.limit === 1 ? '' : 's'}`,
      };
    case 'minLength':
      return { path, detail: `must not be empty${got}` };
    case 'uniqueItems':
      return { path, detail: `entries ${String(params.j)} and ${String(params.i)} are the same` };
    case 'pattern': {
      // A schema's title names what the pattern stands for ("ROS 2 name"); better than the regex.
      const title = (error.parentSchema as { title?: string } | undefined)?.title;
      return {
        path,
        detail: `${describeValue(error.data)} ${title ? `is not a valid ${title}` : `does not match ${String(params.pattern)}`}`,
      };
    }
    case 'discriminator': {
      const tag = String(params.tag);
      const value = (error.data as Record<string, unknown> | undefined)?.[tag];
      const tags = (
        error.parentSchema as { oneOf?: Array<{ properties?: Record<string, { const?: unknown }> }> }
      ).oneOf;
      const known = tags?.map((branch) => branch.properties?.[tag]?.const).filter((t) => t !== undefined);
      return {
        path: path === '' ? tag : `${path}.${tag}`,
        detail:
          value === undefined
            ? `missing required key "${tag}"`
            : `${describeValue(value)} is not supported here; expected one of ${known?.join(', ') ?? '?'}`,
      };
    }
    default:
      return { path, detail: `${error.message ?? 'is invalid'}${got}` };
  }
}

/** The problems Ajv found, said once each (anyOf/oneOf summaries dropped where a branch says more). */
export function schemaProblems(errors: readonly ErrorObject[]): SchemaProblem[] {
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if');
  // A value of the wrong type fails its range too ("2.5: must be an integer", "must be ≥ 5"): the
  // type says it.
  const wrongType = new Set(specific.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const relevant = specific.filter((e) => e.keyword === 'type' || !wrongType.has(e.instancePath));
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const error of relevant.length > 0 ? relevant : errors) {
    const p = problem(error);
    const key = `${p.path}\u0000${p.detail}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(p);
    }
  }
  return problems;
}

/** Compiles a schema on first use (commands that never read such a document do not pay for it). */
export function lazyValidator(schema: TSchema | SchemaObject): () => ValidateFunction {
  let validate: ValidateFunction | null = null;
  return () => {
    validate ??= ajv.compile(schema);
    return validate;
  };
}

/** How a checker turns problems into an error (default: one ConfigError listing them all). */
export type ProblemsError = (source: string, problems: SchemaProblem[]) => Error;

const listProblems: ProblemsError = (source, problems) =>
  new ConfigError(
    `${source}: ${problems.map((p) => (p.path === '' ? p.detail : `${p.path}: ${p.detail}`)).join('; ')}`,
  );

/**
 * A checker for values of a schema: returns the value typed by the schema, or throws naming
 * `source` (a file, or e.g. "--env-set") and every problem.
 */
export function schemaChecker<S extends TSchema>(
  schema: S,
  toError: ProblemsError = listProblems,
): (value: unknown, source: string) => Static<S> {
  const compiled = lazyValidator(schema);
  return (value, source) => {
    const validate = compiled();
    if (validate(value)) return value as Static<S>;
    throw toError(source, schemaProblems(validate.errors ?? []));
  };
}

/**
 * A schema written as plain JSON (e.g. hardware-profiles/schema.json, which editors read too),
 * typed by the interface that describes it.
 */
export function jsonSchema<T>(schema: SchemaObject): TSchema & { static: T } {
  return Type.Unsafe<T>(schema) as TSchema & { static: T };
}

/**
 * A union of object schemas told apart by one string key (`type: sensor_msgs/msg/LaserScan`): a
 * wrong or missing tag is one clear problem instead of every branch's mismatches.
 */
export function taggedUnion<const T extends TSchema[]>(tag: string, branches: [...T]) {
  return Type.Unsafe<Static<T[number]>>({
    type: 'object',
    discriminator: { propertyName: tag },
    required: [tag],
    properties: { [tag]: { type: 'string' } },
    oneOf: branches,
  });
}

/** One of a list of strings, as `enum` (a union of consts would report every branch's mismatch). */
export function stringEnum<const T extends readonly string[]>(values: T) {
  return Type.Unsafe<T[number]>({ enum: [...values] });
}
