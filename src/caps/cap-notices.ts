// Notices at 80% of each cap and when it is reached, once each per month (email and banner), raised
// in the settle's transaction from what was settled and held in the month the hold was placed.
import type { Trx } from '../db/transaction.ts';
import { currentRate, modelLabel } from '../pricing/rates.ts';
import { utcMonth } from '../month.ts';
import { creditsProseText, creditsRoundedDownText } from '../money-text.ts';
import { raiseNoticeIn } from '../alerts/notices.ts';
import { capUses, type CallScope, type CapLimits, type CapUse } from './caps.ts';

/**
 * A cap counts as reached from 99% on, not only at 100%: the last percent is rarely enough for a
 * call's hold (its prompt and at least 256 output tokens), so calls are refused there, and a notice
 * still saying "80%" while they are would mislead. `key` is the level's part of the dedupe key
 * (unchanged: a cap reached is "100").
 */
const LEVELS = [
  { key: '100', fromPercent: 99 },
  { key: '80', fromPercent: 80 },
] as const;

async function capName(trx: Trx, use: Pick<CapUse, 'scope' | 'ref'>, keyName: string | null): Promise<string> {
  if (use.scope === 'user') return 'your monthly cap';
  if (use.scope === 'model') {
    const rate = await currentRate(trx, use.ref!);
    return `your monthly cap for ${rate ? modelLabel(rate) : use.ref}`;
  }
  return `the monthly limit of API key ${keyName ?? use.ref}`;
}

/** `caps`: as read at the start of the settle's transaction. */
export async function noticeCapsReached(trx: Trx, nowMs: number, call: CallScope, holdPlacedAtMs: number, caps: CapLimits): Promise<void> {
  const uses = await capUses(trx, call, holdPlacedAtMs, caps);
  if (uses.length === 0) return;
  const month = utcMonth(holdPlacedAtMs);
  for (const use of uses) {
    // The highest level reached is the one to tell; a lower one that was skipped is not sent after it.
    const level = LEVELS.find((l) => use.spentMc * 100 >= use.capMc * l.fromPercent);
    if (!level) continue;
    const dedupeKeyOf = (levelKey: string) => `cap:${call.userId}:${use.scope}:${use.ref ?? '-'}:${month}:${levelKey}`;
    // Names a model by its label: only when a notice is due, so the settle reads the card rarely.
    if (await trx.selectFrom('notices').select('id').where('dedupe_key', '=', dedupeKeyOf(level.key)).executeTakeFirst()) continue;
    const name = await capName(trx, use, caps.keyName);
    const isReached = level.key === '100';
    const reached = isReached ? `reached ${name}` : `used 80% of ${name}`;
    // Prose: the spent part to 2 decimals (rounded down, so 99.9% never reads as the whole cap), the cap in whole credits.
    const where = use.scope === 'key' ? 'on the API keys page' : 'in your billing settings';
    const message = `You have ${reached} (${creditsRoundedDownText(use.spentMc)} of ${creditsProseText(use.capMc)} credits in ${month}).${isReached ? ` Calls that would pass it are refused until next month or until you raise it ${where}.` : ''}`;
    const raised = await raiseNoticeIn(trx, nowMs, {
      userId: call.userId,
      kind: 'cap',
      dedupeKey: dedupeKeyOf(level.key),
      message,
      email: { subject: `You have ${reached} on tokentab`, text: `${message}\n\nChange caps and limits in your billing settings and on the API keys page.\n` },
    });
    // The cap reached says more than its 80% notice: that banner goes, so the page never says both.
    if (raised && isReached) await trx.updateTable('notices').set({ dismissed_at_ms: nowMs }).where('dedupe_key', '=', dedupeKeyOf('80')).where('dismissed_at_ms', 'is', null).execute();
  }
}
