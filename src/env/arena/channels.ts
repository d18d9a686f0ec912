/**
 * What the arena's channels mean, for clients that only see the wire (docs/protocol.md §4.2): the
 * bridge sends this in its config reply so a simulator written elsewhere needs no guessing about
 * order, units, ranges or signs.
 */
import type { ArenaConfig } from './world.js';

export interface ChannelInfo {
  /** One line on what the channel carries and its conventions. */
  description: string;
  /** Name of each value, in order. */
  components: string[];
  /** Unit of each value, in order. */
  units: string[];
  /** Smallest and largest meaningful value of each component (null: unbounded). */
  min: (number | null)[];
  max: (number | null)[];
  /** `ranges` only: each ray's direction relative to the heading (rad, counter-clockwise positive). */
  anglesRad?: number[];
}

export function arenaChannelInfo(config: ArenaConfig): Record<string, ChannelInfo> {
  const { anglesRad, maxRangeM } = config.sensors;
  const rays = anglesRad.length;
  const maxWheel = config.robot.maxWheelSpeedMps;
  const maxTurn = (2 * maxWheel) / config.robot.wheelBaseM;
  const degrees = (a: number) => `${Math.round((a * 180) / Math.PI)}°`;
  return {
    ranges: {
      description:
        `one distance per ray, from the robot's rim to the first wall or obstacle, clipped to ${maxRangeM} m ` +
        `(${maxRangeM} = nothing in range); rays in anglesRad order, ${degrees(anglesRad[0]!)} … ${degrees(anglesRad[rays - 1]!)} ` +
        'relative to the heading, counter-clockwise positive (negative = to the right)',
      components: anglesRad.map((a) => `range at ${degrees(a)}`),
      units: anglesRad.map(() => 'm'),
      min: anglesRad.map(() => 0),
      max: anglesRad.map(() => maxRangeM),
      anglesRad: [...anglesRad],
    },
    target: {
      description:
        'the current target: bearing relative to the heading, counter-clockwise positive (left > 0), wrapped to (−π, π], ' +
        "and the distance from the robot's centre",
      components: ['bearing', 'distance'],
      units: ['rad', 'm'],
      min: [-Math.PI, 0],
      max: [Math.PI, null],
    },
    cmd_vel:
      config.command === 'twist'
        ? {
            description:
              `twist: forward speed (negative = backwards) and turn rate (counter-clockwise positive); ` +
              `each wheel (v ∓ ω·${config.robot.wheelBaseM}/2) is clamped to ±${maxWheel} m/s`,
            components: ['v', 'omega'],
            units: ['m/s', 'rad/s'],
            min: [-maxWheel, -maxTurn],
            max: [maxWheel, maxTurn],
          }
        : {
            description: `wheel speeds, each clamped to ±${maxWheel} m/s`,
            components: ['left', 'right'],
            units: ['m/s', 'm/s'],
            min: [-maxWheel, -maxWheel],
            max: [maxWheel, maxWheel],
          },
  };
}
