"""The Gazebo differential-drive robot: ros_gz_bridge (params/gz_bridge.yaml) plus the bridge node.

    ros2 launch spikeloop_bridge gazebo_diff_drive.launch.py

Start the world first (e.g. `gz sim diff_drive.sdf` with a gpu_lidar on /lidar and an IMU on /imu).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    share = get_package_share_directory('spikeloop_bridge')
    return LaunchDescription([
        DeclareLaunchArgument('n', default_value='2000', description='network size (neurons)'),
        DeclareLaunchArgument('tick_ms', default_value='1', description='loop tick (ms)'),
        Node(
            package='ros_gz_bridge',
            executable='parameter_bridge',
            name='gz_bridge',
            parameters=[{'config_file': os.path.join(share, 'params', 'gz_bridge.yaml'), 'use_sim_time': True}],
            output='screen',
        ),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'spikeloop_bridge.launch.py')),
            launch_arguments={
                'robot': 'gazebo_diff_drive',
                'n': LaunchConfiguration('n'),
                'tick_ms': LaunchConfiguration('tick_ms'),
            }.items(),
        ),
    ])
