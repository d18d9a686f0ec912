// `npm run ros2:setup`: prepares the optional dependency rclnodejs against the sourced ROS 2.
// npm installs rclnodejs without running its install scripts (package.json allowScripts denies
// them), so `npm ci` works on machines without ROS. With ROS 2 (and spikeloop_msgs) sourced, this
// runs what those scripts would have: pick the prebuilt native addon for this ROS distro and Ubuntu
// release or build it with node-gyp, then generate the JavaScript message bindings.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

function fail(message) {
  console.error(`ros2:setup: ${message}`);
  process.exit(1);
}

if (!process.env.ROS_DISTRO)
  fail('ROS_DISTRO is not set: source /opt/ros/<distro>/setup.bash first (docs/ros2.md)');
let root;
try {
  root = dirname(createRequire(import.meta.url).resolve('rclnodejs/package.json'));
} catch {
  fail('rclnodejs is not installed: run npm ci first');
}
const prefixes = (process.env.AMENT_PREFIX_PATH ?? '').split(delimiter).filter(Boolean);
const hasMsgs = prefixes.some((p) =>
  existsSync(join(p, 'share/ament_index/resource_index/packages/spikeloop_msgs')),
);
if (!hasMsgs) {
  fail(
    'spikeloop_msgs is not on AMENT_PREFIX_PATH: colcon build --base-paths msgs launch, then source install/setup.bash',
  );
}
// rclnodejs's build cleans with `npx rimraf`; let npx fetch it without a prompt.
const env = { ...process.env, npm_config_yes: 'true' };
// node-gyp would download Node's headers; a Debian/Ubuntu nodejs ships them in /usr/include/node.
if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
// rclnodejs builds with `node-gyp -j 16`: on a small machine that many compilers swap. A MAKE
// wrapper puts the job count back to the cores there are (the last -j wins).
if (!env.MAKE) {
  const dir = mkdtempSync(join(tmpdir(), 'spikeloop-make-'));
  const wrapper = join(dir, 'make');
  writeFileSync(wrapper, `#!/bin/sh\nexec make "$@" -j${availableParallelism()}\n`);
  chmodSync(wrapper, 0o755);
  env.MAKE = wrapper;
}
const run = (script) =>
  execFileSync(process.execPath, [join(root, 'scripts', script)], { cwd: root, env, stdio: 'inherit' });
console.log(`ros2:setup: rclnodejs native addon for ROS ${process.env.ROS_DISTRO}`);
run('install.cjs');
console.log('ros2:setup: generating message bindings (including spikeloop_msgs)');
run('generate_messages.cjs');
console.log(
  'ros2:setup: done; start the bridge with spikeloop run --env ros2 --env-set robot=FILE or ros2 launch',
);
