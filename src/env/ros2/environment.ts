/**
 * `spikeloop run --env ros2`: the ROS 2 bridge as a loop environment. Settings (`--env-set`):
 * `robot=FILE` (the robot params file, required); LatencyReport reports the run's --late-policy.
 * ROS arguments come from the command line after `--ros-args` (remaps, node name, namespace).
 *
 * Without a usable ROS 2 environment this fails before touching rclnodejs, with one line naming
 * what is missing.
 */
import { checkSettingKeys } from '../../config/settings.js';
import { Ros2Bridge } from '../../io/ros2/bridge.js';
import { Ros2ParamsError } from '../../io/ros2/errors.js';
import { loadRclnodejs } from '../../io/ros2/load.js';
import { loadRobotParams, type RobotParams } from '../../io/ros2/params.js';
import type { RclApi } from '../../io/ros2/rcl-api.js';
import { splitRosArgs } from '../../io/ros2/ros-args.js';
import type { Environment, EnvironmentOptions, LiveLoop } from '../../loop/ports.js';
import { populationNames, populationSizes } from '../../model/network.js';
import { ros2Codecs, ros2Safety } from './codecs.js';

export { checkMappingFits } from './codecs.js';

export interface Ros2EnvironmentDeps {
  /** How rclnodejs is obtained (tests pass a fake). */
  loadApi: () => Promise<RclApi>;
  /** ROS arguments (default: from process.argv). */
  rosArgs: string[];
}

export interface Ros2LoopEnvironment extends Environment {
  /** The resolved robot params (a recording stores them: replay rebuilds the codecs from them). */
  readonly robot: RobotParams;
}

export async function createRos2Environment(
  options: EnvironmentOptions,
  deps: Ros2EnvironmentDeps = { loadApi: () => loadRclnodejs(), rosArgs: splitRosArgs(process.argv).rosArgs },
): Promise<Ros2LoopEnvironment> {
  // A misspelt setting is a mistake on the command line whatever the machine: said first.
  checkSettingKeys('ros2', options.settings, ['robot']);
  // Then the ROS 2 check: without ROS nothing else matters, and the user gets one line.
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
  const codecs = ros2Codecs(params, { clusters: layout.clusters, tickMs: options.tickMs });
  const sizes = populationSizes(layout);
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
    // The mapping's encoders and the Stimulus input's; the params file's safety settings.
    encoders: codecs.encoders,
    decoders: codecs.decoders,
    safety: ros2Safety(params),
    robot: params,
    // The tick thread rebuilds the same codecs, Stimulus included, from the params file's mapping.
    codecSpec: { mapping: params.codec, stimulusInput: 'stimulus' },
    attachTelemetry: (loop: LiveLoop) => {
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
