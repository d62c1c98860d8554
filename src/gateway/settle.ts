// How a reserved call's hold ends: settled with the upstream's counts or an estimate, or voided when
// the upstream failed before any output; and what the caller is told when there was no answer.
import type { UsageStatus } from '../db/schema.ts';
import { voidHold, type CallOutcome, type SettleResult } from '../ledger/holds.ts';
import type { TokenCounts } from '../pricing/cost.ts';
import { CallAbortedError, UpstreamFailure } from './errors.ts';
import type { MeteredCall } from './metered-call.ts';
import type { Metering } from './metering.ts';
import type { ReceivedOutput } from './output-text.ts';
import type { MeteredRequest, ReportedTokens } from './surface.ts';
import { classifyUpstreamError } from './upstream.ts';

type Call = MeteredCall<MeteredRequest>;

export function callOutcome(call: Call, status: UsageStatus, tokens: ReportedTokens, estimated: boolean, upstreamResponseId: string | null): CallOutcome {
  const { reasoningTokens = 0, ...counts } = tokens;
  return {
    tokens: counts,
    status,
    estimated,
    latencyMs: Math.round(performance.now() - call.startedAtMs),
    upstreamResponseId,
    endpoint: call.held.endpoint,
    reasoningTokens,
    upstream: call.attempts.upstream,
    upstreamAttempts: call.attempts.text(),
  };
}

/**
 * When a call does not end normally (README): input in full as counted here (uncached) plus the output received, marked estimated.
 * The output count is a bound for text with long unbroken runs (token-count.ts), and the upstream
 * never writes more than the output limit per choice, so it is capped there.
 */
export async function estimatedTokens(call: Call, output: ReceivedOutput): Promise<TokenCounts> {
  const { outputLimit, request, countedInputTokens } = call.held;
  const outputTokens = Math.min(await output.tokens(), outputLimit * request.choices);
  return { inputTokens: countedInputTokens, cachedInputTokens: 0, outputTokens };
}

/** Charges the call in the next grouped, durable commit (src/ledger/settle-batch.ts). */
export async function settle(metering: Metering, call: Call, outcome: CallOutcome): Promise<SettleResult> {
  const { hold } = call.held;
  const settled = await metering.settler.settle(hold.id, outcome, hold);
  metering.events.callSettled({ endpoint: call.held.endpoint, status: outcome.status, latencyMs: outcome.latencyMs, chargedMc: settled.chargedMc });
  return settled;
}

/** An upstream failure before any output: nothing is charged; the call is still listed, at 0. */
async function voidFailed(metering: Metering, call: Call, upstreamResponseId: string | null): Promise<void> {
  const tokens = { inputTokens: call.held.countedInputTokens, cachedInputTokens: 0, outputTokens: 0 };
  await voidHold(metering.db, metering.clock, call.held.hold.id, callOutcome(call, 'upstream_error', tokens, true, upstreamResponseId));
}

/**
 * Why the upstream leg ended without a whole answer, once the hold has ended to match: stopped by
 * the client or the shutdown (charged for what was received), or failed (charged for what arrived,
 * voided when nothing did). `midStream`: the answer's stream had begun.
 */
export async function endWithoutAnswer(
  metering: Metering,
  call: Call,
  error: unknown,
  output: ReceivedOutput,
  upstreamResponseId: string | null,
  midStream: boolean,
): Promise<UpstreamFailure | CallAbortedError> {
  const stopped = call.stopReason;
  if (stopped === 'client' || stopped === 'shutdown') {
    call.attempts.failed('stopped');
    await settle(metering, call, callOutcome(call, 'aborted', await estimatedTokens(call, output), true, upstreamResponseId));
    return new CallAbortedError(stopped, midStream);
  }
  const failure = stopped === 'timeout' ? new UpstreamFailure('timeout') : classifyUpstreamError(error, metering.secrets);
  call.attempts.failed(failure);
  metering.events.upstreamFailed(failure.kind, false);
  if (output.any) await settle(metering, call, callOutcome(call, 'upstream_error', await estimatedTokens(call, output), true, upstreamResponseId));
  else await voidFailed(metering, call, upstreamResponseId);
  if (failure.kind !== 'rejected' && failure.kind !== 'rate_limited') metering.log(`upstream ${failure.kind}${failure.upstreamStatus ? ` ${failure.upstreamStatus}` : ''} on ${call.requestId}`);
  return failure;
}
