// /admin/health: the audit (run on request) and its history, pending holds and the oldest, the mail
// outbox's failures, the workers' last rounds and lag, job and process leases, and the database's size.
import type { Health, WorkerStatus } from '../../src/admin/health.ts';
import type { AuditRunRow } from '../../src/audit-runs.ts';
import type { Violation } from '../../src/audit.ts';
import { creditsExactGroupedText, groupedCountText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';

export interface HealthPageProps {
  health: Health;
  /** null until "Run the audit now" is pressed. */
  violations: Violation[] | null;
  nowMs: number;
  /** A page of the audit's history, newest first, and where Newer / Older lead (queries of /admin/health). */
  auditRuns: AuditRunRow[];
  newerQuery: string | null;
  olderQuery: string | null;
  /** A history page link that is not valid. */
  cursorError: string | null;
  workers: WorkerStatus[];
}

const secondsAgo = (nowMs: number, atMs: number) => `${groupedCountText(Math.max(0, Math.floor((nowMs - atMs) / 1000)))} s ago`;

function AuditHistory(props: HealthPageProps) {
  return (
    <>
      <h3 id="health-audit-runs-title">History</h3>
      {props.cursorError ? (
        <p class="form-error" role="alert">
          {props.cursorError} <a href="/admin/health#health-audit">First page</a>
        </p>
      ) : props.auditRuns.length === 0 ? (
        <p class="muted">No audit has run yet (the console and `npm run cli -- audit` are kept here).</p>
      ) : (
        <div class="table-wrap">
          <table class="audit-runs stack-on-phone" aria-labelledby="health-audit-runs-title">
            <thead>
              <tr>
                <th scope="col">Date (UTC)</th>
                <th scope="col">From</th>
                <th scope="col">Result</th>
                <th scope="col" class="num">Took</th>
              </tr>
            </thead>
            <tbody>
              {props.auditRuns.map((run) => (
                <tr data-audit-run={run.id} data-violations={run.violations}>
                  <td data-label="Date (UTC)">{utcDateTime(run.created_at_ms)}</td>
                  <td data-label="From">{run.source === 'console' ? `console (${run.admin_email ?? `user ${run.admin_user_id}`})` : 'CLI'}</td>
                  <td data-label="Result" class={run.violations === 0 ? '' : 'form-error'}>
                    {run.violations === 0 ? 'ok' : `${groupedCountText(run.violations)} violation${run.violations === 1 ? '' : 's'} (${run.summary})`}
                  </td>
                  <td data-label="Took" class="num">{groupedCountText(run.duration_ms)} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Audit history pages">
        {props.newerQuery ? <a href={`/admin/health${props.newerQuery}#health-audit`} rel="prev">Newer</a> : null}
        {props.olderQuery ? <a href={`/admin/health${props.olderQuery}#health-audit`} rel="next">Older</a> : null}
      </nav>
    </>
  );
}

function Workers(props: { workers: WorkerStatus[]; nowMs: number }) {
  return (
    <section id="health-workers" aria-labelledby="health-workers-title">
      <h2 id="health-workers-title">Workers</h2>
      <div class="table-wrap">
        <table class="worker-runs stack-on-phone">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Last round (UTC)</th>
              <th scope="col">Result</th>
              <th scope="col">Last ok (UTC)</th>
              <th scope="col" class="num">Lag</th>
            </tr>
          </thead>
          <tbody>
            {props.workers.map((w) => (
              <tr data-worker={w.name} data-outcome={w.run?.outcome ?? 'never'} data-lag-seconds={w.lagSeconds}>
                <th scope="row" data-label="Worker">
                  <code>{w.name}</code> <span class="muted">{w.job}</span>
                </th>
                <td data-label="Last round (UTC)" class="worker-last-round">
                  {w.run === null ? 'never: no server process has run it yet' : `${utcDateTime(w.run.started_at_ms)} (${secondsAgo(props.nowMs, w.run.started_at_ms)}), took ${groupedCountText(w.run.finished_at_ms - w.run.started_at_ms)} ms, in ${w.run.holder}`}
                </td>
                <td data-label="Result" class={`worker-result${w.run?.outcome === 'failed' ? ' form-error' : ''}`}>
                  {w.run === null ? '—' : `${w.run.outcome}: ${w.run.detail}`}
                </td>
                <td data-label="Last ok (UTC)">{w.run?.last_ok_at_ms ? utcDateTime(w.run.last_ok_at_ms) : '—'}</td>
                <td data-label="Lag" class="num worker-lag">{groupedCountText(w.lagSeconds)} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
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
        <form method="post" action="/admin/health/audit">
          <button type="submit">Run the audit now</button>
        </form>
        <AuditHistory {...props} />
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
      <Workers workers={props.workers} nowMs={props.nowMs} />
      <section id="health-leases" aria-labelledby="health-leases-title">
        <h2 id="health-leases-title">Leases</h2>
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
