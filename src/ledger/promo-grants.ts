// Promo grants in the ledger (docs/architecture.md, Promo credits): a redeemed code's credit, spending
// promo credit before paid credit, and expiry of what is left when a grant ends. wallets.promo_mc is
// Σ remaining_mc of the user's live grants, moved in the same wallet update as the balance, so a
// user with none costs a settle no extra statement, and the ledger stays the one truth.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { PromoGrant } from '../db/schema.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { lockWallet, lockWallets } from '../db/locks.ts';
import { rawInsertOrNothing, rawRows, rawRun } from '../db/raw.ts';
import { appendEntry } from './entries.ts';
import { promoEntryKey, promoExpiryEntryKey } from './idempotency-keys.ts';
import { ledgerPolicy } from './policy.ts';

export interface PromoGrantInput {
  userId: number;
  codeId: number;
  amountMc: number;
  expiresAtMs: number;
  /** The code's hint, for the entry's reference ("promo …ABCD"). */
  reference: string;
}

/**
 * Records a redemption as a grant and credits it, inside the caller's transaction. The grant's insert
 * comes first and is UNIQUE per (code, user), so of a user's concurrent redemptions of one code one
 * writes and the others find it taken: null, nothing written (the caller's "already redeemed").
 */
export async function creditPromoGrantIn(trx: Trx, nowMs: number, input: PromoGrantInput): Promise<PromoGrant | null> {
  if (!Number.isSafeInteger(input.amountMc) || input.amountMc <= 0) throw new RangeError(`a promo grant must be a positive whole number of millicredits, got ${input.amountMc}`);
  const id = await rawInsertOrNothing(
    trx,
    `insert into promo_grants (code_id, user_id, amount_mc, remaining_mc, expires_at_ms, created_at_ms) values (?, ?, ?, ?, ?, ?)
     on conflict (code_id, user_id) do nothing`,
    [input.codeId, input.userId, input.amountMc, input.amountMc, input.expiresAtMs, nowMs],
  );
  if (id === null) return null;
  await lockWallet(trx, input.userId);
  await appendEntry(trx, {
    userId: input.userId,
    type: 'promo',
    amountMc: input.amountMc,
    promoChangeMc: input.amountMc,
    reference: input.reference,
    idempotencyKey: promoEntryKey(id),
    nowMs,
  });
  return {
    id, code_id: input.codeId, user_id: input.userId, amount_mc: input.amountMc, remaining_mc: input.amountMc,
    expired_mc: 0, expires_at_ms: input.expiresAtMs, ended_at_ms: null, created_at_ms: nowMs,
  };
}

/**
 * Takes up to `amountMc` from the user's live grants, soonest ending first, and returns how much it
 * took: the caller's entry moves wallets.promo_mc by minus that. `livePromoMc`: wallets.promo_mc as
 * read after the wallet was locked. Called only when it is above 0, so a user with no promo credit
 * pays nothing here.
 */
export async function spendPromoIn(trx: Trx, userId: number, amountMc: number, livePromoMc: number): Promise<number> {
  let leftMc = Math.min(amountMc, livePromoMc);
  if (leftMc <= 0) return 0;
  const grants = await rawRows<{ id: number; remaining_mc: number }>(
    trx,
    'select id, remaining_mc from promo_grants where user_id = ? and ended_at_ms is null and remaining_mc > 0 order by expires_at_ms, id',
    [userId],
  );
  let takenMc = 0;
  for (const grant of grants) {
    if (leftMc === 0) break;
    const takeMc = Math.min(leftMc, Number(grant.remaining_mc));
    await rawRun(trx, 'update promo_grants set remaining_mc = remaining_mc - ? where id = ?', [takeMc, grant.id]);
    leftMc -= takeMc;
    takenMc += takeMc;
  }
  return takenMc;
}

/**
 * Ends the grants past their time: what is left of each leaves the balance as an `expiry` entry, and
 * the grant is ended. Only what is available can leave (a call in flight may hold part of it, and will
 * spend it first when it settles): the rest stays on the grant for the next run. Each grant is read
 * again after its wallet is locked, so a settle racing the job never lets a credit be both spent and
 * expired, and a second run, in this process or another, finds nothing left: idempotent.
 * Returns how many millicredits expired.
 */
export async function expirePromoGrants(db: DB, clock: Clock, batchSize = 500): Promise<number> {
  let totalMc = 0;
  for (;;) {
    const batch = await writeTransaction(db, async (trx) => {
      const nowMs = clock.now();
      const due = await trx
        .selectFrom('promo_grants')
        .select(['id', 'user_id'])
        .where('ended_at_ms', 'is', null)
        .where('expires_at_ms', '<=', nowMs)
        .orderBy('expires_at_ms')
        .orderBy('id')
        .limit(batchSize)
        .execute();
      await lockWallets(trx, due.map((grant) => grant.user_id));
      let expiredMc = 0;
      let ended = 0;
      for (const { id, user_id: userId } of due) {
        const grant = await trx.selectFrom('promo_grants').select(['remaining_mc', 'ended_at_ms']).where('id', '=', id).executeTakeFirstOrThrow();
        if (grant.ended_at_ms !== null) continue;
        const remainingMc = Number(grant.remaining_mc);
        let takeMc = 0;
        if (remainingMc > 0) {
          const state = await ledgerPolicy().readState(trx, { userId, apiKeyId: null, model: null });
          takeMc = Math.min(remainingMc, Math.max(0, state.availableMc));
          if (takeMc > 0) {
            await appendEntry(trx, {
              userId, type: 'expiry', amountMc: -takeMc, promoChangeMc: -takeMc,
              reference: `promo grant ${id}`, idempotencyKey: promoExpiryEntryKey(id, remainingMc), nowMs, state,
            });
          }
        }
        const endsNow = takeMc === remainingMc;
        await rawRun(trx, 'update promo_grants set remaining_mc = remaining_mc - ?, expired_mc = expired_mc + ?, ended_at_ms = ? where id = ? and ended_at_ms is null', [
          takeMc, takeMc, endsNow ? nowMs : null, id,
        ]);
        expiredMc += takeMc;
        if (endsNow) ended++;
      }
      return { due: due.length, ended, expiredMc };
    });
    totalMc += batch.expiredMc;
    // A full batch that ended every grant may have more behind it; one held back by calls in flight waits for the next run.
    if (batch.due < batchSize || batch.ended < batch.due) return totalMc;
  }
}

/** What is left of a live promo grant, and when it expires. */
export interface LivePromo {
  amountMc: number;
  expiresAtMs: number;
}

/** The balance card lists this many grants at most; a user rarely has more than one or two. */
const LIVE_PROMO_LINES = 5;

/** The user's live promo grants with credit left, soonest ending first (through the live grants' partial index). */
export async function livePromoGrants(db: DB, userId: number): Promise<LivePromo[]> {
  const rows = await db
    .selectFrom('promo_grants')
    .select(['remaining_mc', 'expires_at_ms'])
    .where('user_id', '=', userId)
    .where('ended_at_ms', 'is', null)
    .where('remaining_mc', '>', 0)
    .orderBy('expires_at_ms')
    .orderBy('id')
    .limit(LIVE_PROMO_LINES)
    .execute();
  return rows.map((row) => ({ amountMc: Number(row.remaining_mc), expiresAtMs: Number(row.expires_at_ms) }));
}
