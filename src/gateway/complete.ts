// A reserved call answered whole: the upstream's answer, then the settle with its reported usage
// (or an estimate from the answer when it sent none), then the answer goes out.
import type { TokenCounts } from '../pricing/cost.ts';
import type { CallInfo, MeteredCall } from './metered-call.ts';
import type { Metering } from './metering.ts';
import { firstAnswer } from './failover.ts';
import { ReceivedOutput } from './output-text.ts';
import { callOutcome, endWithoutAnswer, estimatedTokens, settle } from './settle.ts';
import type { MeteredRequest, Surface } from './surface.ts';

export interface CompletedCall<Answer> extends CallInfo {
  kind: 'completion';
  completion: Answer;
  chargedMc: number;
  /** The balance after the charge. */
  balanceMc: number;
  /** The tokens charged: the upstream's counts, or counted here when it sent none. */
  tokens: TokenCounts;
  estimated: boolean;
}

/** Throws UpstreamFailure or CallAbortedError (the hold ended to match) when there was no answer. */
export async function runCompletion<Request extends MeteredRequest, Answer>(
  metering: Metering,
  surface: Surface<Request, Answer, unknown>,
  call: MeteredCall<Request>,
): Promise<CompletedCall<Answer>> {
  try {
    let completion: Answer;
    try {
      completion = await firstAnswer(metering, call, (upstream) => surface.complete(upstream, call.held.request, call.held.outputLimit, call.controller.signal));
    } catch (error) {
      throw await endWithoutAnswer(metering, call, error, new ReceivedOutput(), null, false);
    }
    const reported = surface.answerTokens(completion);
    let tokens = reported;
    if (!tokens) {
      const output = new ReceivedOutput();
      surface.addAnswerOutput(completion, output);
      tokens = await estimatedTokens(call, output);
    }
    // A client that left while the upstream answered: the answer was still made and billed, so it is
    // charged as reported (or estimated from the answer when no usage came), marked aborted.
    const status = call.clientGone() ? 'aborted' : 'ok';
    const settled = await settle(metering, call, callOutcome(call, status, tokens, reported === null, surface.answerId(completion)));
    return { kind: 'completion', ...call.info, completion, chargedMc: settled.chargedMc, balanceMc: settled.balanceMc, tokens, estimated: reported === null };
  } finally {
    call.finish();
  }
}
