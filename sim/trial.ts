// One trial: its schedule from the seed, a fresh world, the operations run at once, every process
// stopped, the holds ended, then every invariant checked; the world is torn down whatever happened.
import { describeSchedule, makeSchedule, type TrialSize } from './schedule.ts';
import { runOperations } from './operations.ts';
import { checkInvariants, endHolds } from './invariants.ts';
import { loadConfig } from '../src/config.ts';
import { startWorld } from './world.ts';

export interface TrialResult {
  seed: number;
  /** e.g. "41 call, 4 purchase, 2 settings, 1 kill" */
  mix: string;
  operations: number;
  /** Calls by what the client saw. */
  outcomes: Record<string, number>;
  holdsLeft: number;
  violations: string[];
  ms: number;
}

/** The server's default HOLD_TTL_SECONDS: the sweeper run at the end looks past it. */
const HOLD_TTL_SECONDS = 600;

export async function runTrial(seed: number, size: TrialSize): Promise<TrialResult> {
  const startedMs = Date.now();
  const schedule = makeSchedule(seed, size);
  const world = await startWorld(size.processes, schedule.grantsMc);
  try {
    const seen = await runOperations(world, schedule);
    await world.stopProcesses();
    const holds = await endHolds(world.t.db, HOLD_TTL_SECONDS, loadConfig({}).processLeaseSeconds);
    const violations = await checkInvariants(world.t.db, world.users, seen, holds);
    const outcomes: Record<string, number> = {};
    for (const call of seen.calls) outcomes[call.outcome] = (outcomes[call.outcome] ?? 0) + 1;
    return { seed, mix: describeSchedule(schedule), operations: schedule.operations.length, outcomes, holdsLeft: holds.pendingAtStop, violations, ms: Date.now() - startedMs };
  } finally {
    await world.close();
  }
}
