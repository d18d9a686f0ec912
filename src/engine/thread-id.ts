/**
 * The Linux thread id (TID) of the calling thread, read from /proc/thread-self ("PID/task/TID").
 * chrt, taskset and setpriority accept it, so a thread can be given its own scheduling without a
 * native addon: engines report their workers' ids (Engine.threadIds), the tick thread its own.
 */
import { readlinkSync } from 'node:fs';

/** The calling thread's TID, or −1 where it cannot be known (not Linux, no /proc). */
export function linuxThreadId(): number {
  try {
    const link = readlinkSync('/proc/thread-self');
    const tid = Number(link.slice(link.lastIndexOf('/') + 1));
    return Number.isInteger(tid) && tid > 0 ? tid : -1;
  } catch {
    return -1;
  }
}
