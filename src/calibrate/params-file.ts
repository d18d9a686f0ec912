/**
 * Model parameter files: the overrides of ModelParams (and N) that calibration chose, in a YAML
 * (or JSON) file the loop and `simulate` can load. Only `model`, `n` and `params` matter for
 * loading; `achieved`, `targets` and `source` document where the values came from.
 */

import { writeFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { stringify as toYaml } from 'yaml';
import { loadConfigFile } from '../config/load.js';
import { ConfigError, schemaChecker, stringEnum } from '../config/schema.js';
import { MODEL_NAMES, type ModelName, type ModelParams, modelParams } from '../model/params.js';
import { keyedBy, SWEEPABLE_KEYS } from './sweep-spec.js';

const PARAMS_FILE_SCHEMA = Type.Object(
  {
    model: Type.Optional(stringEnum(MODEL_NAMES)),
    n: Type.Optional(Type.Integer({ minimum: 5 })),
    /** ModelParams overrides (numbers only). */
    params: Type.Unsafe<Partial<ModelParams>>(
      keyedBy(
        SWEEPABLE_KEYS.filter((key) => key !== 'n'),
        Type.Number(),
      ),
    ),
    /** Metric values measured with these parameters. */
    achieved: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()]))),
    targetsMet: Type.Optional(Type.Boolean()),
    source: Type.Optional(Type.String()),
    date: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** A params file with model and n filled in (the defaults: ei-clustered, 5000). */
export type ModelParamsFile = Static<typeof PARAMS_FILE_SCHEMA> & { model: ModelName; n: number };

const checkParamsFile = schemaChecker(PARAMS_FILE_SCHEMA);

/** Loads and validates a params file; the parameters are checked against the model too. */
export function loadModelParamsFile(path: string): ModelParamsFile {
  const file = checkParamsFile(loadConfigFile(path, 'params file'), path);
  const result: ModelParamsFile = { ...file, model: file.model ?? 'ei-clustered', n: file.n ?? 5000 };
  try {
    modelParams(result.model, result.n, result.params);
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`);
  }
  return result;
}

export function writeModelParamsFile(path: string, file: ModelParamsFile): void {
  const header = `# spikeloop model parameters${file.source ? ` (${file.source})` : ''}\n`;
  writeFileSync(path, header + toYaml(file));
}
