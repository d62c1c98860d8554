// What a call was charged for, in words, from its usage row: the usage detail page and
// GET /v1/usage/{id} say the same sentence, so a person and a script read one account of it.
import type { Usage } from '../db/schema.ts';

type ChargeFacts = Pick<Usage, 'status' | 'estimated' | 'charged_mc' | 'shortfall_mc'>;

/** A voided call: an upstream failure before any output, its hold released with nothing charged. */
export function wasVoided(usage: ChargeFacts): boolean {
  return usage.status === 'upstream_error' && usage.charged_mc === 0 && usage.shortfall_mc === 0;
}

/**
 * An aborted call that is not estimated is a non-streamed call whose client left: the gateway lets
 * those run to their end (src/gateway/complete.ts), so the upstream's own usage was
 * there to charge. An aborted estimated call was cut off (a stream whose client left, or a shutdown).
 */
export function chargeBasis(usage: ChargeFacts): string {
  switch (usage.status) {
    case 'ok':
      return usage.estimated
        ? 'Completed; the upstream reported no usage, so the input (in full) and the output received were counted here.'
        : 'Completed; charged the tokens the upstream reported.';
    case 'aborted':
      return usage.estimated
        ? 'Ended early (the client left during the answer, or the server restarted): charged the input in full and the output received, counted here.'
        : 'The client left before the answer arrived; the answer was completed upstream and charged as the upstream reported.';
    case 'upstream_error':
      return wasVoided(usage)
        ? 'The upstream failed before sending any output: nothing was charged and the hold was released.'
        : 'The upstream failed during the answer: charged the input in full and the output received, counted here.';
  }
}
