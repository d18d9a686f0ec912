/**
 * Environments by name: `spikeloop run --env NAME` creates one here. Built-in environments are
 * loaded lazily (an environment's dependencies, e.g. rclnodejs, load only when it is used); add one
 * by adding an entry to BUILT_IN, or at run time with registerEnvironment.
 */

import type { Environment, EnvironmentOptions } from '../loop/ports.js';

export type EnvironmentFactory = (options: EnvironmentOptions) => Promise<Environment>;

interface Entry {
  description: string;
  load: () => Promise<EnvironmentFactory>;
}

const BUILT_IN: Record<string, Entry> = {
  synthetic: {
    description: 'synthetic sine/step sensor source and a recording motor sink (tests, benchmarks)',
    load: async () => (await import('./synthetic.js')).createSyntheticEnvironment,
  },
  arena: {
    description:
      'the built-in 2-D arena in-process: differential-drive robot, range sensors, targets; --env-set seed=, mapping=FILE',
    load: async () => (await import('./arena/environment.js')).createArenaEnvironment,
  },
  ros2: {
    description:
      'ROS 2 bridge node spikeloop_bridge (rclnodejs); --env-set robot=FILE, remaps after --ros-args',
    load: async () => (await import('./ros2/environment.js')).createRos2Environment,
  },
  ws: {
    description:
      'external simulators over the WebSocket + MessagePack protocol (docs/protocol.md); --env-set port=, host=, token=',
    load: async () => (await import('./ws/environment.js')).createWsEnvironment,
  },
};

const registered = new Map<string, Entry>(Object.entries(BUILT_IN));

export class UnknownEnvironmentError extends Error {
  override name = 'UnknownEnvironmentError';
}

export function registerEnvironment(name: string, description: string, factory: EnvironmentFactory): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new Error(`environment name "${name}" must be lower-case letters, digits and dashes`);
  }
  if (registered.has(name)) throw new Error(`environment "${name}" is already registered`);
  registered.set(name, { description, load: async () => factory });
}

export function environmentNames(): string[] {
  return [...registered.keys()];
}

export function describeEnvironments(): { name: string; description: string }[] {
  return [...registered].map(([name, entry]) => ({ name, description: entry.description }));
}

export async function createEnvironment(name: string, options: EnvironmentOptions): Promise<Environment> {
  const entry = registered.get(name);
  if (!entry) {
    throw new UnknownEnvironmentError(
      `unknown environment "${name}"; expected one of ${environmentNames().join(', ')}`,
    );
  }
  const factory = await entry.load();
  return factory(options);
}
