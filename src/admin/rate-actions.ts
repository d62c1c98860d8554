// What an admin does to the rate card: add a model, change its rates (always a new version; calls
// already charged keep theirs), retire it. Each with its admin_actions row in the same transaction.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Rate } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { creditsExactText } from '../money-text.ts';
import { retireModelIn, setRateIn, type NewRate } from '../pricing/rates.ts';
import { recordAdminAction } from './actions.ts';

/** Adding a model that is already on the card, or changing one that is not. */
export class RateCardConflictError extends Error {
  override name = 'RateCardConflictError';
}

const rateWords = (rate: Rate) =>
  `version ${rate.version}: input ${creditsExactText(rate.input_mc_per_1k)}, cached input ${creditsExactText(rate.cached_input_mc_per_1k)}, output ${creditsExactText(rate.output_mc_per_1k)} credits per 1k tokens; max output ${rate.max_output_tokens} tokens; ${rate.kind}`;

/** `adding`: the model must be new; otherwise it must be on the card (a new version of it). */
export function setRateByAdmin(db: DB, clock: Clock, adminUserId: number, input: NewRate, reason: string, adding: boolean): Promise<Rate> {
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    const known = await trx.selectFrom('rates').select('id').where('model', '=', input.model).limit(1).executeTakeFirst();
    if (adding && known) throw new RateCardConflictError(`'${input.model}' is already on the rate card: change its rates instead.`);
    if (!adding && !known) throw new RateCardConflictError(`'${input.model}' is not on the rate card.`);
    const rate = await setRateIn(trx, nowMs, input);
    await recordAdminAction(trx, { adminUserId, action: adding ? 'rate_add' : 'rate_change', targetUserId: null, target: `model ${rate.model}`, reason, detail: rateWords(rate), nowMs });
    return rate;
  });
}

export function retireByAdmin(db: DB, clock: Clock, adminUserId: number, model: string, reason: string): Promise<boolean> {
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    if (!(await retireModelIn(trx, nowMs, model))) return false;
    await recordAdminAction(trx, { adminUserId, action: 'rate_retire', targetUserId: null, target: `model ${model}`, reason, detail: 'retired: calls get 400 model_retired', nowMs });
    return true;
  });
}
