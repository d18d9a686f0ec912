/**
 * The ROS 2 environment's encoders and decoders, built from robot params alone: the params file's
 * codec mapping (checked against its sensors and motors) plus the built-in Stimulus input. Needs
 * neither rclnodejs nor a ROS 2 graph, so `spikeloop replay` rebuilds a recorded ROS 2 run's codecs
 * from the robot params stored in the recording.
 */
import { type BuiltMapping, buildMapping, type MappingContext } from '../../codec/mapping.js';
import type { Decoder, Encoder } from '../../codec/types.js';
import { StimulusEncoder } from '../../io/ros2/channels.js';
import { Ros2ParamsError } from '../../io/ros2/errors.js';
import { inputSizes, outputSizes, type RobotParams } from '../../io/ros2/params.js';
import type { SafetySettings } from '../../loop/safety.js';

export interface Ros2Codecs {
  /** The mapping's encoders, then the Stimulus input's. */
  encoders: Encoder[];
  decoders: Decoder[];
  mapping: BuiltMapping;
}

export function ros2Codecs(params: RobotParams, context: MappingContext): Ros2Codecs {
  const mapping = buildMapping(params.codec, context);
  checkMappingFits(params, mapping.inputs, mapping.outputs);
  // Stimulus messages from other nodes drive populations directly, next to the mapped sensors.
  return { encoders: [...mapping.encoders, new StimulusEncoder()], decoders: mapping.decoders, mapping };
}

/** The params file's staleness timeouts and stale policies; the Stimulus input is optional. */
export function ros2Safety(params: RobotParams): SafetySettings {
  return {
    staleAfterMs: {
      ...Object.fromEntries(params.sensors.map((s) => [s.name, s.staleAfterMs])),
      stimulus: Number.POSITIVE_INFINITY,
    },
    onStale: Object.fromEntries(params.motors.map((m) => [m.name, m.onStale])),
    dependsOn: Object.fromEntries(
      params.motors.flatMap((m) => (m.dependsOn === null ? [] : [[m.name, m.dependsOn]])),
    ),
  };
}

/** The codec mapping must read the params file's sensors with their sizes and write its motors. */
export function checkMappingFits(
  params: RobotParams,
  inputs: ReadonlyMap<string, number>,
  outputs: readonly string[],
) {
  const sensorSizes = inputSizes(params);
  for (const [input, size] of inputs) {
    if (input === 'stimulus') {
      throw new Ros2ParamsError(
        params.source,
        'codec.encoders',
        'input "stimulus" is built in (Stimulus messages add their currents directly); remove its encoder',
      );
    }
    const produced = sensorSizes[input];
    if (produced === undefined) {
      throw new Ros2ParamsError(
        params.source,
        'codec.encoders',
        `input "${input}" is not a sensor of this robot (sensors: ${Object.keys(sensorSizes).join(', ')})`,
      );
    }
    if (produced !== size) {
      throw new Ros2ParamsError(
        params.source,
        'codec.encoders',
        `input "${input}" has ${produced} values per message, but its encoder expects ${size}`,
      );
    }
  }
  const motors = outputSizes(params);
  for (const output of outputs) {
    if (motors[output] === undefined) {
      throw new Ros2ParamsError(
        params.source,
        'codec.decoders',
        `output "${output}" is not a motor of this robot (motors: ${Object.keys(motors).join(', ')})`,
      );
    }
  }
}
