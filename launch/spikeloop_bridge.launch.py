"""Start the spikeloop_bridge node: the spiking network in a closed loop with a ROS 2 robot.

    ros2 launch spikeloop_bridge spikeloop_bridge.launch.py robot:=turtlebot3 n:=2000 tick_ms:=1

`robot` is a params file name in this package's params/ (turtlebot3, ros2_control_arm,
gazebo_diff_drive) or a path to one. The node is the spikeloop CLI (Node.js, rclnodejs), found
in $SPIKELOOP_HOME (the spikeloop checkout, after `npm ci && npm run build && npm run ros2:setup`).
Topic remappings go in `remap` as "from:=to" pairs separated by spaces.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.substitutions import LaunchConfiguration

ARGUMENTS = [
    ('robot', 'turtlebot3', 'robot params: a name in spikeloop_bridge/params or a path to a YAML file'),
    ('profile', '', 'hardware profile (hardware-profiles/*.json) choosing backend and network size'),
    ('n', '2000', 'network size (neurons, N_E : N_I = 4 : 1)'),
    ('tick_ms', '1', 'loop tick (ms, a multiple of 0.1)'),
    ('backend', 'auto', 'engine backend: auto, webgpu or cpu'),
    ('late_policy', 'skip', 'overrun policy: skip or late'),
    ('report', '', 'directory for the latency report written at shutdown'),
    ('node_name', 'spikeloop_bridge', 'ROS node name'),
    ('namespace', '', 'ROS namespace of the node'),
    ('remap', '', 'topic remappings, e.g. "scan:=/front/scan cmd_vel:=/robot/cmd_vel"'),
    ('spikeloop_home', os.environ.get('SPIKELOOP_HOME', ''), 'spikeloop checkout (default: $SPIKELOOP_HOME)'),
]


def resolve_robot(robot: str) -> str:
    if os.sep in robot or robot.endswith('.yaml'):
        return robot
    return os.path.join(get_package_share_directory('spikeloop_bridge'), 'params', robot + '.yaml')


def bridge_command(context):
    arg = {name: LaunchConfiguration(name).perform(context) for name, _, _ in ARGUMENTS}
    home = arg['spikeloop_home']
    if not home:
        raise RuntimeError('spikeloop_bridge: set SPIKELOOP_HOME or spikeloop_home:=/path/to/spikeloop')
    cmd = [
        'node', os.path.join(home, 'bin', 'spikeloop.js'), 'run',
        '--env', 'ros2',
        '--env-set', 'robot=' + resolve_robot(arg['robot']),
        '--n', arg['n'],
        '--tick-ms', arg['tick_ms'],
        '--backend', arg['backend'],
        '--late-policy', arg['late_policy'],
    ]
    if arg['profile']:
        cmd += ['--profile', arg['profile']]
    if arg['report']:
        cmd += ['--report', arg['report']]
    cmd += ['--ros-args', '-r', '__node:=' + arg['node_name']]
    if arg['namespace']:
        cmd += ['-r', '__ns:=' + arg['namespace']]
    for pair in arg['remap'].split():
        cmd += ['-r', pair]
    return [ExecuteProcess(cmd=cmd, name=arg['node_name'], output='screen', sigterm_timeout='5')]


def generate_launch_description():
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=text) for name, default, text in ARGUMENTS]
        + [OpaqueFunction(function=bridge_command)]
    )
