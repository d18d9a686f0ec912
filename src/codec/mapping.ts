/**
 * The mapping format: plain JSON/YAML-friendly objects describing input → encoder → populations
 * and populations → decoder → output. `buildMapping` validates a parsed file (unknown keys, wrong
 * kinds, wrong lengths are errors naming the path, e.g. `encoders[1].populations[3]`) and builds
 * the encoder and decoder objects for a network with Q clusters and a given tick.
 *
 * Populations are written as indices (0..2Q−1: E clusters, then I clusters) or names ("E3", "I0").
 */

import { describeValue } from '../config/checks.js';
import {
  PopulationVectorDecoder,
  type PopulationVectorOptions,
  RateDecoder,
  type RateDecoderOptions,
  WinnerTakeAllDecoder,
  type WinnerTakeAllOptions,
} from './decoders.js';
import {
  GaussianEncoder,
  type GaussianEncoderOptions,
  LinearEncoder,
  type LinearEncoderOptions,
  RateEncoder,
  type RateEncoderOptions,
} from './encoders.js';
import { CodecError, requireInteger, requirePositive } from './errors.js';
import type { Decoder, Encoder } from './types.js';

export const MAPPING_VERSION = 1;

/** A population index, or a name: "E<q>" for the E part of cluster q, "I<q>" for its I part. */
export type PopulationRef = number | string;

type Common<T> = Omit<T, 'populationCount' | 'path' | 'populations' | 'tickMs'>;

export type LinearEncoderConfig = {
  kind: 'linear';
  populations: PopulationRef[];
} & Common<LinearEncoderOptions>;
export type GaussianEncoderConfig = {
  kind: 'gaussian';
  populations: PopulationRef[];
  /** Values per sample of the input. Default 1. */
  size?: number;
} & Omit<Common<GaussianEncoderOptions>, 'size'>;
export type RateEncoderConfig = {
  kind: 'rate';
  populations: PopulationRef[];
  size?: number;
} & Omit<Common<RateEncoderOptions>, 'size'>;
export type EncoderConfig = LinearEncoderConfig | GaussianEncoderConfig | RateEncoderConfig;

export type RateDecoderConfig = { kind: 'rate'; groups: PopulationRef[][] } & Omit<
  Common<RateDecoderOptions>,
  'groups'
>;
export type WinnerTakeAllConfig = { kind: 'wta'; groups: PopulationRef[][] } & Omit<
  Common<WinnerTakeAllOptions>,
  'groups'
>;
export type PopulationVectorConfig = {
  kind: 'population-vector';
  populations: PopulationRef[];
} & Common<PopulationVectorOptions>;
export type DecoderConfig = RateDecoderConfig | WinnerTakeAllConfig | PopulationVectorConfig;

export interface CodecMapping {
  version?: number;
  /** Free text for people reading the file. */
  description?: string;
  encoders: EncoderConfig[];
  decoders: DecoderConfig[];
}

export interface MappingContext {
  /** Q: the network's clusters; populations are 0..2Q−1. */
  clusters: number;
  /** Tick length (ms), needed by rate coding. */
  tickMs: number;
}

export interface BuiltMapping {
  encoders: Encoder[];
  decoders: Decoder[];
  /** Values per sample of each input name. */
  inputs: Map<string, number>;
  /** Output names, in the order of `decoders`. */
  outputs: string[];
  populationCount: number;
}

const ENCODER_KEYS: Record<EncoderConfig['kind'], readonly string[]> = {
  linear: ['kind', 'input', 'size', 'populations', 'weightsPa', 'offset', 'clamp'],
  gaussian: [
    'kind',
    'input',
    'size',
    'index',
    'populations',
    'preferred',
    'sigma',
    'amplitudePa',
    'period',
    'baselinePa',
  ],
  rate: [
    'kind',
    'input',
    'size',
    'index',
    'populations',
    'rateHzPerUnit',
    'baseRateHz',
    'maxRateHz',
    'afferents',
    'weightPa',
    'tauSynMs',
    'seed',
  ],
};

const DECODER_KEYS: Record<DecoderConfig['kind'], readonly string[]> = {
  rate: ['kind', 'output', 'tauMs', 'groups', 'gain', 'offset'],
  wta: ['kind', 'output', 'tauMs', 'groups', 'values', 'minRateHz', 'hysteresisHz', 'idle'],
  'population-vector': [
    'kind',
    'output',
    'tauMs',
    'populations',
    'preferredRad',
    'mode',
    'steer',
    'baselineHz',
  ],
};

/** Resolves a population reference against Q clusters. */
export function resolvePopulation(path: string, ref: unknown, clusters: number): number {
  if (typeof ref === 'number') return ref;
  if (typeof ref === 'string') {
    const match = /^([EI])(\d+)$/.exec(ref);
    if (match) {
      const q = Number(match[2]);
      if (q >= clusters) {
        throw new CodecError(`${path}: "${ref}" names cluster ${q}, but the network has ${clusters}`);
      }
      return match[1] === 'E' ? q : clusters + q;
    }
  }
  throw new CodecError(
    `${path}: expected a population index or a name like "E3"/"I3", got ${describeValue(ref)}`,
  );
}

function resolveList(path: string, refs: unknown, clusters: number): number[] {
  if (!Array.isArray(refs)) throw new CodecError(`${path}: must be an array, got ${describeValue(refs)}`);
  return refs.map((ref, i) => resolvePopulation(`${path}[${i}]`, ref, clusters));
}

function requireObject(path: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CodecError(`${path}: must be an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

function checkKeys(path: string, object: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new CodecError(`${path}.${key}: unknown key; expected one of ${allowed.join(', ')}`);
    }
  }
}

function buildEncoder(path: string, raw: unknown, context: MappingContext, populationCount: number): Encoder {
  const config = requireObject(path, raw);
  const kind = config.kind as EncoderConfig['kind'];
  const allowed = ENCODER_KEYS[kind];
  if (allowed === undefined) {
    throw new CodecError(
      `${path}.kind: unknown encoder ${describeValue(config.kind)}; expected linear, gaussian or rate`,
    );
  }
  checkKeys(path, config, allowed);
  const populations = resolveList(`${path}.populations`, config.populations, context.clusters);
  const common = { path, populationCount, populations };
  // Scalar encoders (Gaussian, rate) default to one value per sample.
  const size = (config.size ?? 1) as number;
  switch (kind) {
    case 'linear':
      return new LinearEncoder({ ...(config as unknown as LinearEncoderOptions), ...common });
    case 'gaussian':
      return new GaussianEncoder({ ...(config as unknown as GaussianEncoderOptions), ...common, size });
    case 'rate':
      return new RateEncoder({
        ...(config as unknown as RateEncoderOptions),
        ...common,
        size,
        tickMs: context.tickMs,
      });
  }
}

function buildDecoder(path: string, raw: unknown, context: MappingContext, populationCount: number): Decoder {
  const config = requireObject(path, raw);
  const kind = config.kind as DecoderConfig['kind'];
  const allowed = DECODER_KEYS[kind];
  if (allowed === undefined) {
    throw new CodecError(
      `${path}.kind: unknown decoder ${describeValue(config.kind)}; expected rate, wta or population-vector`,
    );
  }
  checkKeys(path, config, allowed);
  const common = { path, populationCount };
  const groups = () => {
    if (!Array.isArray(config.groups)) {
      throw new CodecError(
        `${path}.groups: must be an array of population lists, got ${describeValue(config.groups)}`,
      );
    }
    return config.groups.map((g, i) => resolveList(`${path}.groups[${i}]`, g, context.clusters));
  };
  switch (kind) {
    case 'rate':
      return new RateDecoder({ ...(config as unknown as RateDecoderOptions), ...common, groups: groups() });
    case 'wta':
      return new WinnerTakeAllDecoder({
        ...(config as unknown as WinnerTakeAllOptions),
        ...common,
        groups: groups(),
      });
    case 'population-vector':
      return new PopulationVectorDecoder({
        ...(config as unknown as PopulationVectorOptions),
        ...common,
        populations: resolveList(`${path}.populations`, config.populations, context.clusters),
      });
  }
}

/** Validates a mapping (as parsed from JSON or YAML) and builds its encoders and decoders. */
export function buildMapping(raw: unknown, context: MappingContext): BuiltMapping {
  const clusters = requireInteger('context.clusters', context.clusters, 1, 1 << 23);
  requirePositive('context.tickMs', context.tickMs);
  const mapping = requireObject('mapping', raw);
  checkKeys('mapping', mapping, ['version', 'description', 'encoders', 'decoders']);
  if (mapping.version !== undefined && mapping.version !== MAPPING_VERSION) {
    throw new CodecError(
      `mapping.version: expected ${MAPPING_VERSION}, got ${describeValue(mapping.version)}`,
    );
  }
  for (const key of ['encoders', 'decoders'] as const) {
    if (!Array.isArray(mapping[key])) {
      throw new CodecError(`mapping.${key}: must be an array, got ${describeValue(mapping[key])}`);
    }
  }
  const populationCount = 2 * clusters;
  const encoders = (mapping.encoders as unknown[]).map((e, i) =>
    buildEncoder(`encoders[${i}]`, e, context, populationCount),
  );
  const decoders = (mapping.decoders as unknown[]).map((d, i) =>
    buildDecoder(`decoders[${i}]`, d, context, populationCount),
  );
  const inputs = new Map<string, number>();
  encoders.forEach((encoder, i) => {
    const size = (encoder as LinearEncoder | GaussianEncoder | RateEncoder).size;
    const known = inputs.get(encoder.input);
    if (known !== undefined && known !== size) {
      throw new CodecError(
        `encoders[${i}].size: input "${encoder.input}" has ${size} values here but ${known} in an earlier encoder`,
      );
    }
    inputs.set(encoder.input, size);
  });
  const outputs: string[] = [];
  decoders.forEach((decoder, i) => {
    if (outputs.includes(decoder.output)) {
      throw new CodecError(`decoders[${i}].output: output "${decoder.output}" is produced by two decoders`);
    }
    outputs.push(decoder.output);
  });
  return { encoders, decoders, inputs, outputs, populationCount };
}
