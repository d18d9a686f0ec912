/**
 * The default arena controller: a mapping that makes the attractor network steer the robot.
 *
 * Every E cluster k gets a preferred steering direction θ_k, evenly spaced around the circle with
 * one cluster straight ahead. Then:
 * - target: the target's bearing drives a Gaussian bump of current over the clusters tuned near
 *   it, so the clusters pointing at the target tend to win the attractor competition;
 * - obstacles: each range ray at angle φ inhibits the clusters tuned near φ and excites those
 *   tuned 90° away from it (towards the other side), in proportion to the obstacle's proximity
 *   (maxRange − range): an obstacle on the left silences "left" clusters and drives "right" ones;
 *   one dead ahead drives both sides and the attractor's winner-take-all competition picks one;
 * - motor: the population vector of the filtered cluster rates gives a heading; the robot turns
 *   towards it (ω ∝ angle) and drives forward in proportion to cos(angle) and the vector length.
 * Everything is expressed as a plain CodecMapping, so it can be saved, edited and reloaded.
 */
import type { CodecMapping, DecoderConfig } from '../../codec/mapping.js';
import { wrapAngle } from './geometry.js';

export interface ArenaControllerOptions {
  /** Q: E clusters of the network. */
  clusters: number;
  /** Ray angles of the range sensors (rad) and their maximum range (m). */
  sensorAnglesRad: readonly number[];
  maxRangeM: number;
  /** Peak current of the target bump (pA) and its width (rad). */
  targetAmplitudePa?: number;
  targetSigmaRad?: number;
  /**
   * Constant current onto every steering cluster (pA). Negative values quiet the clusters that the
   * network's own random structure favours, so that inputs, not chance, pick the winner.
   */
  steeringBiasPa?: number;
  /** Current per metre of obstacle proximity onto the clusters facing it (inhibition) and facing away (excitation). */
  obstacleInhibitionPaPerM?: number;
  obstacleExcitationPaPerM?: number;
  obstacleSigmaRad?: number;
  /** Rate filter of the decoder (ms), and the rate above which a cluster counts as active (Hz). */
  tauMs?: number;
  baselineHz?: number;
  maxSpeedMps?: number;
  /** Population-vector length (Hz) for full speed. */
  fullSpeedHz?: number;
  turnGainPerS?: number;
  maxTurnRadPerS?: number;
  /**
   * 'population-vector' (default) steers by the vector average of all clusters; 'wta' steers by
   * the single most active cluster, each cluster standing for one (v, ω) command.
   */
  decoder?: 'population-vector' | 'wta';
  /** WTA only: a challenger must beat the current winner by this rate (Hz). */
  hysteresisHz?: number;
}

export const DEFAULT_CONTROLLER = {
  targetAmplitudePa: 2,
  targetSigmaRad: 0.5,
  steeringBiasPa: -0.7,
  obstacleInhibitionPaPerM: 4,
  obstacleExcitationPaPerM: 2,
  obstacleSigmaRad: 0.5,
  tauMs: 50,
  baselineHz: 10,
  maxSpeedMps: 0.3,
  fullSpeedHz: 15,
  turnGainPerS: 1.5,
  maxTurnRadPerS: 3,
  decoder: 'population-vector',
  hysteresisHz: 5,
} as const;

/** Preferred direction of E cluster k of Q: 2π(k − ⌊Q/2⌋)/Q, so cluster ⌊Q/2⌋ points straight ahead. */
export function clusterDirectionsRad(clusters: number): number[] {
  const half = Math.floor(clusters / 2);
  return Array.from({ length: clusters }, (_, k) => wrapAngle((2 * Math.PI * (k - half)) / clusters));
}

function gaussian(d: number, sigma: number): number {
  return Math.exp((-d * d) / (2 * sigma * sigma));
}

/** Inputs "ranges" (one value per ray, m) and "target" ([bearing rad, distance m]); output "cmd_vel" ([v, ω]). */
export function arenaControllerMapping(options: ArenaControllerOptions): CodecMapping {
  const o = { ...DEFAULT_CONTROLLER, ...options };
  if (!Number.isInteger(o.clusters) || o.clusters < 2) {
    throw new Error(`arena controller: needs at least 2 clusters, got ${o.clusters}`);
  }
  const directions = clusterDirectionsRad(o.clusters);
  const populations = directions.map((_, k) => k);
  // Rows: rays; columns: clusters. (range − maxRange) ≤ 0, so a positive weight inhibits.
  // Rows: rays; columns: clusters. (range − maxRange) ≤ 0, so a positive weight inhibits. A ray
  // at φ excites the clusters pointing 90° away from it; a ray straight ahead excites both sides
  // equally and the attractor's competition picks one.
  const away = (phi: number): [number, number][] =>
    phi > 0
      ? [[phi - Math.PI / 2, 1]]
      : phi < 0
        ? [[phi + Math.PI / 2, 1]]
        : [
            [-Math.PI / 2, 0.5],
            [Math.PI / 2, 0.5],
          ];
  const obstacleWeights = o.sensorAnglesRad.map((phi) =>
    directions.map((theta) => {
      let w = o.obstacleInhibitionPaPerM * gaussian(wrapAngle(theta - phi), o.obstacleSigmaRad);
      for (const [direction, share] of away(phi)) {
        w -= share * o.obstacleExcitationPaPerM * gaussian(wrapAngle(theta - direction), o.obstacleSigmaRad);
      }
      return w;
    }),
  );
  return {
    version: 1,
    description:
      'Default arena controller: target bearing → Gaussian bump over E clusters; obstacle proximity ' +
      'inhibits clusters facing it and excites those facing away; population vector → v/ω.',
    encoders: [
      {
        kind: 'gaussian',
        input: 'target',
        size: 2,
        index: 0,
        populations,
        preferred: directions,
        sigma: o.targetSigmaRad,
        amplitudePa: o.targetAmplitudePa,
        period: 2 * Math.PI,
        baselinePa: o.steeringBiasPa,
      },
      {
        kind: 'linear',
        input: 'ranges',
        size: o.sensorAnglesRad.length,
        populations,
        weightsPa: obstacleWeights,
        offset: o.maxRangeM,
      },
    ],
    decoders: [o.decoder === 'wta' ? winnerTakeAll(o, directions) : populationVector(o, directions)],
  };
}

type Resolved = Required<Omit<ArenaControllerOptions, 'sensorAnglesRad'>>;

function populationVector(o: Resolved, directions: number[]): DecoderConfig {
  return {
    kind: 'population-vector',
    output: 'cmd_vel',
    tauMs: o.tauMs,
    populations: directions.map((_, k) => k),
    preferredRad: directions,
    mode: 'steer',
    baselineHz: o.baselineHz,
    steer: {
      maxSpeedMps: o.maxSpeedMps,
      fullSpeedHz: o.fullSpeedHz,
      turnGainPerS: o.turnGainPerS,
      maxTurnRadPerS: o.maxTurnRadPerS,
    },
  };
}

/** Each cluster is its own group; its command is what the population vector would give for its direction alone. */
function winnerTakeAll(o: Resolved, directions: number[]): DecoderConfig {
  return {
    kind: 'wta',
    output: 'cmd_vel',
    tauMs: o.tauMs,
    groups: directions.map((_, k) => [k]),
    values: directions.map((theta) => [
      o.maxSpeedMps * Math.max(0, Math.cos(theta)),
      Math.max(-o.maxTurnRadPerS, Math.min(o.maxTurnRadPerS, o.turnGainPerS * theta)),
    ]),
    minRateHz: o.baselineHz,
    hysteresisHz: o.hysteresisHz,
    idle: [0, 0],
  };
}
