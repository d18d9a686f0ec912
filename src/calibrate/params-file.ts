/**
 * Model parameter files: the overrides of ModelParams (and N) that calibration chose, in a YAML
 * (or JSON) file the loop and `simulate` can load. Only `model`, `n` and `params` matter for
 * loading; `achieved`, `targets` and `source` document where the values came from.
 */
import { writeFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { loadConfigFile } from '../config/load.js';
import { ConfigError, jsonSchema, schemaChecker } from '../config/schema.js';
import { MODEL_NAMES, type ModelName, type ModelParams, modelParams } from '../model/params.js';
import { SWEEPABLE_KEYS } from './sweep-spec.js';

export interface ModelParamsFile {
  model: ModelName;
  n: number;
  /** ModelParams overrides (numbers only). */
  params: Partial<ModelParams>;
  /** Metric values measured with these parameters. */
  achieved?: Record<string, number | null>;
  targetsMet?: boolean;
  source?: string;
  date?: string;
}

const PARAMS_FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['params'],
  properties: {
    model: { enum: [...MODEL_NAMES] },
    n: { type: 'integer', minimum: 5 },
    params: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        SWEEPABLE_KEYS.filter((key) => key !== 'n').map((key) => [key, { type: 'number' }]),
      ),
    },
    achieved: { type: 'object', additionalProperties: { type: ['number', 'null'] } },
    targetsMet: { type: 'boolean' },
    source: { type: 'string' },
    date: { type: 'string' },
  },
};

const checkParamsFile = schemaChecker(
  jsonSchema<Partial<ModelParamsFile> & { params: Partial<ModelParams> }>(PARAMS_FILE_SCHEMA),
);

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
