// Failover inside one metered call, under its one hold (README, Several upstreams): the call's upstreams
// are tried in order, the next only after a failure that says nothing was done for the caller (the
// upstream unreachable, reset, slow to answer, rate-limited or failing with a 5xx) and only while
// nothing has reached the client. A refusal of the request itself (4xx but 429) is the caller's problem.
import type { UpstreamFailure } from './errors.ts';
import type { MeteredCall } from './metered-call.ts';
import type { Metering } from './metering.ts';
import type { UpstreamTarget } from './upstream-pool.ts';
import { classifyUpstreamError } from './upstream.ts';
import type { MeteredRequest } from './surface.ts';

/** Whether a failure before any output lets the next upstream be tried. */
export function failsOver(failure: UpstreamFailure): boolean {
  switch (failure.kind) {
    case 'unreachable':
    case 'timeout':
    case 'rate_limited':
    case 'broken':
      return true;
    case 'server':
      return (failure.upstreamStatus ?? 500) >= 500;
    default:
      return false;
  }
}

/**
 * Runs `attempt` on each of the call's upstreams in order until one answers, recording each on the call.
 * `hasNext`: another upstream would be tried after this one. A failure that does not fail over, one
 * after the call was stopped (client gone, deadline, shutdown) and the last upstream's are thrown as
 * they came, for the call to end as it does with one upstream.
 */
export async function firstAnswer<T>(
  metering: Metering,
  call: MeteredCall<MeteredRequest>,
  attempt: (target: UpstreamTarget, hasNext: boolean) => Promise<T>,
): Promise<T> {
  const targets = call.held.upstreams;
  for (let index = 0; ; index++) {
    const target = targets[index]!;
    const hasNext = index + 1 < targets.length;
    call.attempts.begin(target.name);
    try {
      return await attempt(target, hasNext);
    } catch (error) {
      if (!hasNext || call.stopReason !== null) throw error;
      const failure = classifyUpstreamError(error, metering.secrets);
      if (!failsOver(failure)) throw error;
      call.attempts.failed(failure);
      metering.events.upstreamFailed(failure.kind, true);
      metering.log(`upstream ${target.name} ${failure.kind}${failure.upstreamStatus ? ` ${failure.upstreamStatus}` : ''} on ${call.requestId}; trying ${targets[index + 1]!.name}`);
    }
  }
}
