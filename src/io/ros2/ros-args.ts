/**
 * ROS 2 command-line convention: everything from `--ros-args` up to a lone `--` (or the end) is for
 * rcl (remappings `-r from:=to`, `-p name:=value`, `--params-file`, `--log-level`), the rest is the
 * program's. The CLI parses only the rest; the bridge hands the ROS part to rclnodejs's init.
 */
export function splitRosArgs(argv: readonly string[]): { args: string[]; rosArgs: string[] } {
  const args: string[] = [];
  const rosArgs: string[] = [];
  let inRos = false;
  for (const arg of argv) {
    if (arg === '--ros-args') {
      inRos = true;
      rosArgs.push(arg);
    } else if (inRos && arg === '--') {
      inRos = false;
    } else if (inRos) {
      rosArgs.push(arg);
    } else {
      args.push(arg);
    }
  }
  return { args, rosArgs };
}
