// A trial's whole schedule, drawn from its seed before anything runs: the users, their starting credits
// and every operation with its start time. The same seed gives the same schedule (timing is real, so
// interleavings vary; the operations do not).
import { seededRandom } from '../test/helpers/random.ts';
import type { UpstreamBehaviour } from '../test/fakes/openai-upstream.ts';

export interface TrialSize {
  /** App processes on the one database. */
  processes: number;
  users: number;
  /** Operations of the random mix (calls, purchases, settings, kills…). */
  operations: number;
  /** The window the operations start in. */
  spreadMs: number;
}

export interface CallOp {
  kind: 'call';
  atMs: number;
  user: number;
  process: number;
  endpoint: 'chat' | 'responses';
  stream: boolean;
  maxTokens: number;
  /** What the fake upstream does with this call (found by the marker in its prompt). */
  upstream: UpstreamBehaviour;
  /** The client leaves this long after sending, or never (null). */
  abortAfterMs: number | null;
}

export interface PurchaseOp {
  kind: 'purchase';
  atMs: number;
  user: number;
  process: number;
  /** Paid on the hosted page; an unpaid session expires instead. */
  paid: boolean;
  /** Times each webhook event is delivered (1–5), all shuffled together. */
  deliveries: number[];
  /** The buyer comes back to the success page, and a reconcile runs, alongside the webhooks. */
  returnPage: boolean;
  reconcile: boolean;
  /** What follows the payment at Stripe, its events delivered with the purchase's. */
  after: { kind: 'none' } | { kind: 'refund'; fraction: number } | { kind: 'dispute'; outcome: 'won' | 'lost' };
  /** Seed of the delivery order and the processes each delivery goes to. */
  orderSeed: number;
}

export interface SettingsOp {
  kind: 'settings';
  atMs: number;
  user: number;
  process: number;
  /** Credits, or '' for no cap. */
  monthlyCap: string;
  /** gpt-4o-mini's own cap in credits, or '' for none. */
  modelCap: string;
}

export interface KeyLimitsOp {
  kind: 'key-limits';
  atMs: number;
  user: number;
  process: number;
  monthlyLimit: string;
  maxInFlight: string;
}

export interface KillOp {
  kind: 'kill';
  atMs: number;
  process: number;
  restartAfterMs: number;
}

export type Operation = CallOp | PurchaseOp | SettingsOp | KeyLimitsOp | KillOp;

export interface Schedule {
  seed: number;
  size: TrialSize;
  /** Each user's starting grant, in millicredits. */
  grantsMc: number[];
  operations: Operation[];
}

export function makeSchedule(seed: number, size: TrialSize): Schedule {
  const random = seededRandom(seed);
  const int = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;

  // Small grants (0–150 credits), so balances run out within a trial: a call holds up to about 10,000 mc.
  const grantsMc = Array.from({ length: size.users }, () => int(0, 150) * 1_000);
  const operations: Operation[] = [];
  let killed = false;
  for (let i = 0; i < size.operations; i++) {
    const atMs = int(0, size.spreadMs);
    const user = int(0, size.users - 1);
    const process = int(0, size.processes - 1);
    const roll = random();
    if (roll < 0.78) {
      const maxTokens = int(1, 400);
      operations.push({ kind: 'call', atMs, user, process, endpoint: chance(0.7) ? 'chat' : 'responses', stream: chance(0.5), maxTokens, upstream: upstreamBehaviour(), abortAfterMs: chance(0.12) ? int(0, 300) : null });
    } else if (roll < 0.86) {
      const after = pick(['none', 'none', 'refund', 'dispute'] as const);
      const events = 1 + (after === 'refund' ? 1 : after === 'dispute' ? 2 : 0);
      operations.push({
        kind: 'purchase', atMs, user, process,
        paid: chance(0.85),
        deliveries: Array.from({ length: events }, () => int(1, 5)),
        returnPage: chance(0.6),
        reconcile: chance(0.4),
        after: after === 'refund' ? { kind: 'refund', fraction: pick([0.1, 0.5, 1]) } : after === 'dispute' ? { kind: 'dispute', outcome: pick(['won', 'lost'] as const) } : { kind: 'none' },
        orderSeed: int(1, 2 ** 31),
      });
    } else if (roll < 0.92) {
      operations.push({ kind: 'settings', atMs, user, process, monthlyCap: chance(0.5) ? '' : String(int(1, 30)), modelCap: chance(0.6) ? '' : String(int(1, 20)) });
    } else if (roll < 0.97) {
      operations.push({ kind: 'key-limits', atMs, user, process, monthlyLimit: chance(0.5) ? '' : String(int(1, 30)), maxInFlight: String(int(1, 6)) });
    } else if (!killed) {
      killed = true;
      operations.push({ kind: 'kill', atMs, process, restartAfterMs: int(100, 800) });
    }
  }
  operations.sort((a, b) => a.atMs - b.atMs);
  return { seed, size, grantsMc, operations };

  function upstreamBehaviour(): UpstreamBehaviour {
    const roll = random();
    const usage = { prompt_tokens: int(1, 1_500), completion_tokens: int(1, 500), cached_tokens: 0 };
    usage.cached_tokens = chance(0.2) ? int(0, usage.prompt_tokens) : 0;
    if (roll < 0.5) return { kind: 'ok', usage, chunkDelayMs: int(0, 15) };
    if (roll < 0.6) return { kind: 'ok' };
    if (roll < 0.67) return { kind: 'no-usage' };
    if (roll < 0.75) return { kind: 'error', status: pick([429, 500, 400] as const) };
    // UPSTREAM_TIMEOUT_SECONDS is 1 in a trial: a hang is a timeout.
    if (roll < 0.8) return { kind: 'hang' };
    if (roll < 0.9) return { kind: 'partial-then-error', chunks: int(0, 6) };
    return { kind: 'slow-stream', chunks: int(2, 12), chunkDelayMs: int(5, 60) };
  }
}

/** One line a person can read: how many of each operation. */
export function describeSchedule(schedule: Schedule): string {
  const counts = new Map<string, number>();
  for (const op of schedule.operations) counts.set(op.kind, (counts.get(op.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
}
