/** What a closed-loop run uses of src/record (loaded only with --record or --foxglove). */
import type { Environment } from '../loop/ports.js';
import type { RunDescription } from './channels.js';
import { McapRecorder } from './recorder.js';

export { describeRun } from './description.js';
export { startFoxgloveServer } from './foxglove.js';

export async function openRunRecording(
  path: string,
  description: RunDescription,
  env: Environment,
): Promise<McapRecorder> {
  if (!path.endsWith('.mcap')) throw new Error(`--record expects a file name ending in .mcap, got "${path}"`);
  return McapRecorder.open(path, description, env);
}
