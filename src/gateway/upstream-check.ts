// The start's check of UPSTREAMS_FILE against the rate card (README, Several upstreams): a model the
// file routes must be on the card (else the start stops: its calls could never be priced); a model on
// the card that no upstream serves only warns (its calls are refused with model_not_found), since the
// card may hold models this server chooses not to offer.
import type { DB } from '../db/connect.ts';
import { currentRates } from '../pricing/rates.ts';
import type { UpstreamsConfig } from '../upstreams-file.ts';

export interface UpstreamModelCheck {
  /** Routed by the file, not on the rate card: the start stops, naming them. */
  notOnRateCard: string[];
  /** On the rate card, served by no upstream: a warning. */
  unserved: string[];
}

export async function checkUpstreamModels(db: DB, config: UpstreamsConfig): Promise<UpstreamModelCheck> {
  // The one upstream of OPENAI_* serves every model under its own name.
  if (config.file === null) return { notOnRateCard: [], unserved: [] };
  const onCard = new Set((await currentRates(db)).map((rate) => rate.model));
  const routed = Object.keys(config.routes);
  return {
    notOnRateCard: routed.filter((model) => !onCard.has(model)).sort(),
    unserved: [...onCard].filter((model) => !(model in config.routes)).sort(),
  };
}

/** The start's one line for each: an error that stops it, or a warning. */
export function describeUpstreamModelCheck(config: UpstreamsConfig, check: UpstreamModelCheck): { error: string | null; warning: string | null } {
  return {
    error:
      check.notOnRateCard.length === 0
        ? null
        : `UPSTREAMS_FILE ${config.file}: routes ${check.notOnRateCard.join(', ')}, not on the rate card: add rates first (npm run cli -- rates:set …) or take them out of the file`,
    warning: check.unserved.length === 0 ? null : `UPSTREAMS_FILE ${config.file}: no upstream serves ${check.unserved.join(', ')}: calls for them are refused (model_not_found)`,
  };
}
