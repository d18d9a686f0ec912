/**
 * The launch package (launch/): the Python launch files compile, the XML one parses, and both
 * start `spikeloop run --env ros2` with the robot params, hardware profile, network size and tick.
 * Python does the parsing (ast, xml.etree), so nothing from ROS is needed; without python3 the
 * tests skip and say why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const LAUNCH = join(import.meta.dirname, '../../../launch');
const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython)
  console.log('launch tests skipped: python3 is not installed (needed to parse the launch files)');

function python(script: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
}

// Compiles a file without writing __pycache__ and lists what the launch file declares and runs.
const PY_INSPECT = `
import ast, json, sys
path = sys.argv[1]
source = open(path).read()
compile(source, path, 'exec')
tree = ast.parse(source)
functions = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
calls = sorted({n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)})
print(json.dumps({'functions': functions, 'strings': strings, 'calls': calls}))
`;

const XML_INSPECT = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(json.dumps({
  'root': root.tag,
  'args': {a.get('name'): a.get('default') for a in root.findall('arg')},
  'executables': [{'cmd': e.get('cmd'), 'if': e.get('if'), 'unless': e.get('unless'), 'name': e.get('name')} for e in root.findall('executable')],
  'lets': {l.get('name'): l.get('value') for l in root.findall('let')},
}))
`;

describe.skipIf(!hasPython)('launch files', () => {
  it('spikeloop_bridge.launch.py compiles and runs the bridge with every argument of the brief', () => {
    const info = JSON.parse(python(PY_INSPECT, join(LAUNCH, 'spikeloop_bridge.launch.py')));
    expect(info.functions).toContain('generate_launch_description');
    for (const arg of ['robot', 'profile', 'n', 'tick_ms', 'remap', 'node_name', 'namespace']) {
      expect(info.strings).toContain(arg);
    }
    for (const token of ['run', '--env', 'ros2', '--profile', '--n', '--tick-ms', '--ros-args', '__node:=']) {
      expect(info.strings).toContain(token);
    }
    expect(info.strings).toContain('spikeloop_bridge');
    expect(info.calls).toEqual(
      expect.arrayContaining(['ExecuteProcess', 'DeclareLaunchArgument', 'OpaqueFunction']),
    );
  });

  it('gazebo_diff_drive.launch.py compiles, starts ros_gz_bridge and includes the bridge launch', () => {
    const info = JSON.parse(python(PY_INSPECT, join(LAUNCH, 'gazebo_diff_drive.launch.py')));
    expect(info.strings).toEqual(
      expect.arrayContaining(['ros_gz_bridge', 'parameter_bridge', 'gz_bridge.yaml']),
    );
    expect(info.strings).toEqual(expect.arrayContaining(['spikeloop_bridge.launch.py', 'gazebo_diff_drive']));
  });

  it('spikeloop_bridge.launch.xml parses and runs the bridge with robot params, profile, n and tick', () => {
    const info = JSON.parse(python(XML_INSPECT, join(LAUNCH, 'spikeloop_bridge.launch.xml')));
    expect(info.root).toBe('launch');
    expect(Object.keys(info.args)).toEqual(
      expect.arrayContaining(['robot', 'profile', 'n', 'tick_ms', 'backend', 'node_name', 'ros_args']),
    );
    expect(info.args.node_name).toBe('spikeloop_bridge');
    expect(info.lets.params).toBe('$(find-pkg-share spikeloop_bridge)/params/$(var robot).yaml');
    expect(info.lets.common).toMatch(/bin\/spikeloop\.js run --env ros2 --env-set robot=\$\(var params\)/);
    expect(info.lets.common).toMatch(/--n \$\(var n\) --tick-ms \$\(var tick_ms\)/);
    // One executable without a profile, one with: exactly one runs.
    expect(info.executables).toHaveLength(2);
    const [plain, profiled] = info.executables;
    expect(plain.unless).toBe(profiled.if);
    expect(profiled.cmd).toMatch(/--profile \$\(var profile\) --ros-args -r __node:=\$\(var node_name\)/);
  });

  it('the package installs every launch file and the params directory', () => {
    const cmake = readFileSync(join(LAUNCH, 'CMakeLists.txt'), 'utf8');
    for (const file of [
      'spikeloop_bridge.launch.py',
      'spikeloop_bridge.launch.xml',
      'gazebo_diff_drive.launch.py',
    ]) {
      expect(cmake).toContain(file);
    }
    expect(cmake).toMatch(/install\(DIRECTORY params DESTINATION share\/\$\{PROJECT_NAME\}\)/);
    const packageXml = readFileSync(join(LAUNCH, 'package.xml'), 'utf8');
    expect(packageXml).toMatch(/<name>spikeloop_bridge<\/name>/);
    expect(packageXml).toMatch(/<exec_depend>spikeloop_msgs<\/exec_depend>/);
  });

  it('the ros_gz_bridge config bridges the lidar, IMU and cmd_vel the Gazebo params use', () => {
    const entries = parseYaml(readFileSync(join(LAUNCH, 'params', 'gz_bridge.yaml'), 'utf8')) as {
      ros_topic_name: string;
      direction: string;
    }[];
    expect(entries.map((e) => `${e.ros_topic_name} ${e.direction}`)).toEqual(
      expect.arrayContaining(['/scan GZ_TO_ROS', '/imu GZ_TO_ROS', '/cmd_vel ROS_TO_GZ']),
    );
  });
});
