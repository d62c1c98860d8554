// /admin/health: the audit (run on request), pending holds and the oldest, the mail outbox's
// failures, job and process leases, and the database's size.
import type { Health } from '../../src/admin/health.ts';
import type { Violation } from '../../src/audit.ts';
import { creditsExactGroupedText, groupedCountText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';

export interface HealthPageProps {
  health: Health;
  /** null until "Run the audit now" is pressed. */
  violations: Violation[] | null;
  nowMs: number;
}

const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

export function HealthPage(props: HealthPageProps) {
  const { health } = props;
  return (
    <>
      <section class="card" id="health-audit" aria-labelledby="health-audit-title">
        <h2 id="health-audit-title">Audit</h2>
        {props.violations === null ? (
          <p class="muted">Checks every invariant of the books (as `npm run cli -- audit` does); on a large database it takes a while.</p>
        ) : props.violations.length === 0 ? (
          <p class="audit-result" data-violations="0">The books balance: no invariant is broken.</p>
        ) : (
          <>
            <p class="audit-result form-error" data-violations={String(props.violations.length)}>
              {groupedCountText(props.violations.length)} violations:
            </p>
            <ul>
              {props.violations.map((v) => (
                <li>
                  Invariant {v.invariant}: {v.detail}
                </li>
              ))}
            </ul>
          </>
        )}
        <form method="get" action="/admin/health">
          <input type="hidden" name="audit" value="now" />
          <button type="submit">Run the audit now</button>
        </form>
      </section>
      <section class="card" id="health-holds" aria-label="Holds">
        <dl class="admin-wallet">
          <dt>Pending holds</dt>
          <dd class="pending-holds">{groupedCountText(health.pendingHolds)}</dd>
          <dt>Held</dt>
          <dd data-mc={health.pendingHeldMc}>{creditsExactGroupedText(health.pendingHeldMc)}</dd>
          <dt>Oldest hold</dt>
          <dd class="oldest-hold">{health.oldestHoldCreatedAtMs === null ? 'none' : `${utcDateTime(health.oldestHoldCreatedAtMs)} UTC (${groupedCountText(Math.floor((props.nowMs - health.oldestHoldCreatedAtMs) / 1000))} s ago)`}</dd>
          <dt>Mail waiting</dt>
          <dd class="mail-pending">{groupedCountText(health.mailPending)}</dd>
          <dt>Database size</dt>
          <dd class="database-size">{megabytes(health.databaseBytes)}</dd>
        </dl>
      </section>
      <section id="health-mail" aria-labelledby="health-mail-title">
        <h2 id="health-mail-title">Mail failures</h2>
        {health.mailFailures.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul class="mail-failures">
            {health.mailFailures.map((m) => (
              <li data-mail-id={m.id}>
                {utcDateTime(m.created_at_ms)} · {m.to_address} · “{m.subject}” · {m.status}, {m.attempts} attempts: {m.last_error ?? ''}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section id="health-leases" aria-labelledby="health-leases-title">
        <h2 id="health-leases-title">Workers and processes</h2>
        <ul class="job-leases">
          {health.jobLeases.map((l) => (
            <li>
              Job <code>{l.name}</code>: held by {l.holder} until {utcDateTime(l.expires_at_ms)} UTC
            </li>
          ))}
          {health.liveProcessLeases.map((l) => (
            <li>
              Process {l.id} ({l.holder}): up since {utcDateTime(l.started_at_ms)} UTC, lease until {utcDateTime(l.expires_at_ms)} UTC
            </li>
          ))}
        </ul>
        {health.jobLeases.length + health.liveProcessLeases.length === 0 ? <p class="muted">No leases: no server process is running the workers.</p> : null}
      </section>
    </>
  );
}
