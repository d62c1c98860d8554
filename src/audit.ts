// The audit of every invariant (docs/architecture.md, Invariants): each part contributes its checks
// (the ledger's own, billing's purchases, promo codes'), run here above both so neither imports the other.
import type { DB } from './db/connect.ts';
import { purchasesCreditedOnce } from './billing/audit-check.ts';
import { ledgerChecks, type AuditCheck, type Violation } from './ledger/audit.ts';
import { promoCreditsAccounted } from './promo/audit-check.ts';

export type { Violation };

const checks: readonly AuditCheck[] = [...ledgerChecks, purchasesCreditedOnce, promoCreditsAccounted];

/** Every violation found, in the order of the checks; empty when the books are right. */
export async function audit(db: DB): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const check of checks) violations.push(...(await check(db)));
  return violations;
}
