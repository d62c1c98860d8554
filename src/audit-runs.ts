// The audit's history (migration 0018): each run of the audit from the console or the CLI is kept with
// when, where from, by whom, how long and its violation counts by invariant, and the health page lists
// them newest first in keyset pages.
import type { Clock } from './clock.ts';
import type { DB } from './db/connect.ts';
import type { Cursor } from './db/cursor.ts';
import { keysetQuery, toPage, type Page } from './db/keyset.ts';
import type { AuditRun, AuditRunSource } from './db/schema.ts';
import { audit, type Violation } from './audit.ts';

export const AUDIT_RUNS_PAGE_SIZE = 20;

export interface AuditRunRow extends AuditRun {
  /** The admin who ran it from the console; null otherwise. */
  admin_email: string | null;
}

/** "invariant 1: 2; invariant 4: 1": the violations counted by invariant, in the invariants' order. */
export function violationSummary(violations: readonly Violation[]): string {
  const counts = new Map<number, number>();
  for (const v of violations) counts.set(v.invariant, (counts.get(v.invariant) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([invariant, count]) => `invariant ${invariant}: ${count}`)
    .join('; ');
}

/** Runs the audit and keeps its result; answers the violations as audit() does. */
export async function runAudit(db: DB, clock: Clock, source: AuditRunSource, adminUserId: number | null = null): Promise<Violation[]> {
  const startedMs = clock.now();
  // Wall time for the duration: a test's fixed clock would say every audit took 0 ms.
  const startedWallMs = performance.now();
  const violations = await audit(db);
  await db
    .insertInto('audit_runs')
    .values({ source, admin_user_id: adminUserId, violations: violations.length, summary: violationSummary(violations), duration_ms: Math.round(performance.now() - startedWallMs), created_at_ms: startedMs })
    .execute();
  return violations;
}

/** A page of the history, newest first. */
export async function auditRunsPage(db: DB, cursor: Cursor | null, pageSize = AUDIT_RUNS_PAGE_SIZE): Promise<Page<AuditRunRow>> {
  const base = db.selectFrom('audit_runs as r').leftJoin('users as u', 'u.id', 'r.admin_user_id').selectAll('r').select('u.email as admin_email');
  const rows = (await keysetQuery(db.selectFrom(base.as('t')).selectAll(), cursor, pageSize).execute()) as AuditRunRow[];
  const numbered = rows.map((r) => ({ ...r, id: Number(r.id), violations: Number(r.violations), duration_ms: Number(r.duration_ms), created_at_ms: Number(r.created_at_ms), admin_user_id: r.admin_user_id === null ? null : Number(r.admin_user_id) }));
  return toPage(numbered, cursor, pageSize);
}
