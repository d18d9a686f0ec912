/** Opens the recording of a closed-loop run (`spikeloop run --record`). */
import { type DescribeOptions, describeRun } from './description.js';
import { McapRecorder } from './recorder.js';

export async function openRunRecording(path: string, options: DescribeOptions): Promise<McapRecorder> {
  if (!path.endsWith('.mcap')) throw new Error(`--record expects a file name ending in .mcap, got "${path}"`);
  return McapRecorder.open(path, describeRun(options), options.env);
}
