// Notices at 80% and 100% of each cap, once each per month (email and banner), raised in the
// settle's transaction from what was settled and held in the month the hold was placed.
import type { Trx } from '../db/transaction.ts';
import { utcMonth } from '../month.ts';
import { creditsProseText, creditsRoundedDownText } from '../money-text.ts';
import { raiseNoticeIn } from '../alerts/notices.ts';
import { capUses, type CallScope, type CapLimits, type CapUse } from './caps.ts';

const LEVELS_PERCENT = [100, 80] as const;

function capName(use: Pick<CapUse, 'scope' | 'ref'>, keyName: string | null): string {
  if (use.scope === 'user') return 'your monthly cap';
  if (use.scope === 'model') return `your monthly cap for ${use.ref}`;
  return `the monthly limit of API key ${keyName ?? use.ref}`;
}

/** `caps`: as read at the start of the settle's transaction. */
export async function noticeCapsReached(trx: Trx, nowMs: number, call: CallScope, holdPlacedAtMs: number, caps: CapLimits): Promise<void> {
  const uses = await capUses(trx, call, holdPlacedAtMs, caps);
  if (uses.length === 0) return;
  const month = utcMonth(holdPlacedAtMs);
  for (const use of uses) {
    // The highest level reached is the one to tell; a lower one that was skipped is not sent after it.
    const level = LEVELS_PERCENT.find((percent) => use.spentMc * 100 >= use.capMc * percent);
    if (!level) continue;
    const name = capName(use, caps.keyName);
    const reached = level === 100 ? `reached ${name}` : `used 80% of ${name}`;
    const message = `You have ${reached} (${creditsRoundedDownText(use.spentMc)} of ${creditsProseText(use.capMc)} credits in ${month}).${level === 100 ? ' Calls that would pass it are refused until next month or until you raise it.' : ''}`;
    await raiseNoticeIn(trx, nowMs, {
      userId: call.userId,
      kind: 'cap',
      dedupeKey: `cap:${call.userId}:${use.scope}:${use.ref ?? '-'}:${month}:${level}`,
      message,
      email: { subject: `You have ${reached} on tokentab`, text: `${message}\n\nChange caps and limits in your billing settings and on the API keys page.\n` },
    });
  }
}
