/** The arena as the protocol describes it (telemetry.arena, world frames): flat float32 arrays. */

import type { ArenaView } from '../../io/ws/protocol.js';
import type { ArenaScene, ArenaState } from './world.js';

export function arenaView(scene: ArenaScene, state: ArenaState): ArenaView {
  const circles = scene.obstacles.filter((o) => o.kind === 'circle');
  const segments = scene.obstacles.filter((o) => o.kind === 'segment');
  const rays = new Float32Array(scene.sensorAnglesRad.length * 2);
  scene.sensorAnglesRad.forEach((angle, k) => {
    rays[2 * k] = angle;
    rays[2 * k + 1] = state.rangesM[k] ?? scene.maxRangeM;
  });
  return {
    width: scene.widthM,
    height: scene.heightM,
    robot: Float32Array.of(state.robot.x, state.robot.y, state.robot.headingRad),
    robotRadius: scene.robotRadiusM,
    rays,
    targets: Float32Array.of(state.target.x, state.target.y, scene.reachRadiusM),
    obstacles: Float32Array.from(circles.flatMap((o) => (o.kind === 'circle' ? [o.x, o.y, o.radiusM] : []))),
    segments: Float32Array.from(
      segments.flatMap((o) => (o.kind === 'segment' ? [o.x1, o.y1, o.x2, o.y2] : [])),
    ),
    collisions: state.collisions,
    targetsReached: state.targetsReached,
    motion: Float32Array.of(state.robot.vMps, state.robot.omegaRadPerS),
  };
}
