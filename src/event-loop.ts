// Giving the event loop a turn in the middle of long work, so other requests are read and answered.
import { setImmediate as immediate } from 'node:timers/promises';

/**
 * Resolves after the event loop has polled for I/O at least once. One setImmediate is not enough
 * when called from an I/O callback (a request's body just read and parsed): it runs in the same
 * loop iteration's check phase, before any new I/O is read. The second, queued from the check
 * phase, runs only after the next iteration's poll.
 */
export async function afterPollingIO(): Promise<void> {
  await immediate();
  await immediate();
}
