/**
 * `spikeloop run --env ros2`: the ROS 2 bridge as a loop environment. Settings (`--env-set`):
 * `robot=FILE` (the robot params file, required); LatencyReport reports the run's --late-policy.
 * ROS arguments come from the command line after `--ros-args` (remaps, node name, namespace).
 *
 * Without a usable ROS 2 environment this fails before touching rclnodejs, with one line naming
 * what is missing.
 */
import { buildMapping } from '../../codec/mapping.js';
import { Ros2Bridge } from '../../io/ros2/bridge.js';
import { StimulusEncoder } from '../../io/ros2/channels.js';
import { Ros2ParamsError } from '../../io/ros2/errors.js';
import { loadRclnodejs } from '../../io/ros2/load.js';
import { inputSizes, loadRobotParams, outputSizes, type RobotParams } from '../../io/ros2/params.js';
import type { RclApi } from '../../io/ros2/rcl-api.js';
import { splitRosArgs } from '../../io/ros2/ros-args.js';
import type { Environment, EnvironmentOptions, TelemetryAttachment } from '../../loop/ports.js';
import { populationNames } from '../../model/network.js';

export interface Ros2EnvironmentDeps {
  /** How rclnodejs is obtained (tests pass a fake). */
  loadApi: () => Promise<RclApi>;
  /** ROS arguments (default: from process.argv). */
  rosArgs: string[];
}

export async function createRos2Environment(
  options: EnvironmentOptions,
  deps: Ros2EnvironmentDeps = { loadApi: () => loadRclnodejs(), rosArgs: splitRosArgs(process.argv).rosArgs },
): Promise<Environment> {
  // First the ROS 2 check: without ROS nothing else matters, and the user gets one line.
  const api = await deps.loadApi();
  const robot = options.settings?.robot;
  if (typeof robot !== 'string' || robot === '') {
    throw new Ros2ParamsError(
      '--env ros2',
      '',
      'needs a robot params file: --env-set robot=FILE (see docs/ros2.md)',
    );
  }
  const params = loadRobotParams(robot);
  const { layout } = options;
  const mapping = buildMapping(params.codec, { clusters: layout.clusters, tickMs: options.tickMs });
  checkMappingFits(params, mapping.inputs, mapping.outputs);
  const sizes = Uint32Array.from({ length: layout.populationCount }, (_, p) =>
    p < layout.clusters ? layout.nEPerCluster : layout.nIPerCluster,
  );
  const bridge = await Ros2Bridge.start({
    api,
    params,
    rosArgs: deps.rosArgs,
    tickMs: options.tickMs,
    populationNames: populationNames(layout),
    populationSizes: sizes,
    neuronCount: layout.n,
    clockUs: options.clockUs,
    latePolicy: options.latePolicy ?? '',
  });
  return {
    name: 'ros2',
    // Stimulus messages from other nodes drive populations directly, next to the mapped sensors.
    sources: [...bridge.sensors, bridge.stimulus],
    sinks: bridge.motors,
    encoders: [...mapping.encoders, new StimulusEncoder()],
    decoders: mapping.decoders,
    // The params file's staleness timeouts and stale policies; Stimulus input is optional.
    safety: {
      staleAfterMs: {
        ...Object.fromEntries(params.sensors.map((s) => [s.name, s.staleAfterMs])),
        stimulus: Number.POSITIVE_INFINITY,
      },
      onStale: Object.fromEntries(params.motors.map((m) => [m.name, m.onStale])),
      dependsOn: Object.fromEntries(
        params.motors.filter((m) => m.dependsOn !== null).map((m) => [m.name, m.dependsOn!]),
      ),
    },
    attachTelemetry: (loop: TelemetryAttachment) => {
      if (bridge.wantsSpikes) loop.streamSpikes(true);
      bridge.attachTelemetry(loop.feed, loop.tickMs / loop.substeps);
    },
    summary: () => ({
      robot: params.robot,
      sensorMessages: bridge.sensors.reduce((sum, s) => sum + s.stats.received, 0),
      sensorErrors: bridge.sensors.reduce((sum, s) => sum + s.stats.errors, 0),
      commandsPublished: bridge.motors.reduce((sum, m) => sum + m.stats.published, 0),
      watchdogStops: bridge.motors.reduce((sum, m) => sum + m.watchdog.trips, 0),
    }),
    halt: async (reason: string) => bridge.halt(reason),
    close: () => bridge.close(),
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
        '/codec/encoders',
        'input "stimulus" is built in (Stimulus messages add their currents directly); remove its encoder',
      );
    }
    const produced = sensorSizes[input];
    if (produced === undefined) {
      throw new Ros2ParamsError(
        params.source,
        '/codec/encoders',
        `input "${input}" is not a sensor of this robot (sensors: ${Object.keys(sensorSizes).join(', ')})`,
      );
    }
    if (produced !== size) {
      throw new Ros2ParamsError(
        params.source,
        '/codec/encoders',
        `input "${input}" has ${produced} values per message, but its encoder expects ${size}`,
      );
    }
  }
  const motors = outputSizes(params);
  for (const output of outputs) {
    if (motors[output] === undefined) {
      throw new Ros2ParamsError(
        params.source,
        '/codec/decoders',
        `output "${output}" is not a motor of this robot (motors: ${Object.keys(motors).join(', ')})`,
      );
    }
  }
}
