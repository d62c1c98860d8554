// The API keys page: a new key shown once (copy button, curl example), the list with each key's
// limits and a summary of its controls, each key's controls form (models, addresses, expiry, requests
// per minute), create and revoke.
import type { ApiKey } from '../src/db/schema.ts';
import { keyControlsOf, lastDayOf, type KeyControls } from '../src/keys/controls.ts';
import type { KeyControlsErrors, KeyControlsValues } from '../src/keys/controls-form.ts';
import { Field } from './form.tsx';
import { utcDateTime } from './time.ts';
import { creditsExactGroupedText, creditsFieldText, creditsProseText, usdRoundedUpText } from '../src/money-text.ts';
import { CurlExample } from './credits/first-call.tsx';
import { CsvLinksSection, type CsvLinksSectionProps } from './csv-links.tsx';

export interface KeysPanelProps {
  keys: ApiKey[];
  publicUrl: string;
  /** The full key, only in the response that created it. */
  newKey?: { key: string; name: string };
  nameValue?: string;
  errors?: Record<string, string>;
  /** What the last plain form did (after its redirect): "Limits saved for …", "… was revoked". */
  notice?: string;
  /** A key's limits form that did not save: which key, what was typed, what is wrong. */
  limitErrors?: { keyId: number; errors: Record<string, string>; values: Record<string, string> };
  /** The rate card's models, the choices of a key's allowed models. */
  rateCard: { model: string; label: string }[];
  /** Each key's charges this UTC month (keys with none are absent), and the month ("2026-11"). */
  spentThisMonthMc: Map<number, number>;
  month: string;
  /** Now, to tell expired keys. */
  nowMs: number;
  /** A key's controls form that did not save. */
  controlErrors?: { keyId: number; errors: KeyControlsErrors; values: KeyControlsValues };
  /** The key whose controls were just saved: its form stays open and says so. */
  savedControlsOf?: number;
  /** The user's CSV links that still work, and one just made by a plain form. */
  csvLinks: CsvLinksSectionProps;
}

function expired(controls: KeyControls, nowMs: number): boolean {
  return controls.expiresAtMs !== null && nowMs >= controls.expiresAtMs;
}

/** One line per control, as the list shows them. */
function controlsSummary(controls: KeyControls, nowMs: number): string[] {
  const { allowedModels, allowedCidrs, expiresAtMs, requestsPerMinute } = controls;
  return [
    allowedModels === null ? 'All models' : `Models: ${allowedModels.join(', ')}`,
    allowedCidrs === null ? 'Any address' : `From: ${allowedCidrs.length <= 2 ? allowedCidrs.join(', ') : `${allowedCidrs.slice(0, 2).join(', ')} and ${allowedCidrs.length - 2} more`}`,
    expiresAtMs === null ? 'Never expires' : expired(controls, nowMs) ? `Expired after ${lastDayOf(expiresAtMs)}` : `Works through ${lastDayOf(expiresAtMs)}`,
    requestsPerMinute === null ? 'No request limit' : `${requestsPerMinute.toLocaleString('en-US')} requests a minute`,
  ];
}

/** What the form shows: what was typed when it did not save, else what is stored. */
function controlsValues(controls: KeyControls): KeyControlsValues {
  return {
    models: controls.allowedModels === null ? 'all' : 'some',
    allowedModels: [...(controls.allowedModels ?? [])],
    cidrs: (controls.allowedCidrs ?? []).join('\n'),
    expires: controls.expiresAtMs === null ? '' : lastDayOf(controls.expiresAtMs),
    requestsPerMinute: controls.requestsPerMinute === null ? '' : String(controls.requestsPerMinute),
  };
}

function FieldError(props: { id: string; message?: string }) {
  return props.message ? (
    <p class="field-error" id={props.id}>
      {props.message}
    </p>
  ) : null;
}

function KeyControlsForm(props: { apiKey: ApiKey; controls: KeyControls; rateCard: KeysPanelProps['rateCard']; nowMs: number; failed?: KeysPanelProps['controlErrors']; saved: boolean }) {
  const { apiKey, controls } = props;
  const failed = props.failed?.keyId === apiKey.id ? props.failed : undefined;
  const errors = failed?.errors ?? {};
  const values = failed?.values ?? controlsValues(controls);
  const id = (name: string) => `key-${apiKey.id}-${name}`;
  const invalid = (name: keyof KeyControlsErrors) => (errors[name] ? 'true' : undefined);
  const describedBy = (name: keyof KeyControlsErrors, hint?: string) => [hint, errors[name] ? id(`${name}-error`) : null].filter(Boolean).join(' ') || undefined;
  const action = `/keys/${apiKey.id}/controls`;
  return (
    <details class="card key-controls" id={id('controls')} data-key-id={apiKey.id} open={failed || props.saved ? true : undefined}>
      <summary>
        <strong>{apiKey.name}</strong> <span class="muted">{controlsSummary(controls, props.nowMs).join(' · ')}</span>
      </summary>
      <form method="post" action={action} hx-post={action} hx-target="#keys-panel" hx-swap="outerHTML" hx-disabled-elt="find button">
        <fieldset aria-describedby={describedBy('models')}>
          <legend>Models</legend>
          <label class="checkbox">
            <input type="radio" name="models" value="all" checked={values.models !== 'some'} /> All models on the rate card, and any added later
          </label>
          <label class="checkbox">
            <input type="radio" name="models" value="some" checked={values.models === 'some'} aria-invalid={invalid('models')} /> Only the models ticked below
          </label>
          <div class="model-choices">
            {props.rateCard.map((rate) => (
              <label class="checkbox">
                <input type="checkbox" name="allowed_model" value={rate.model} checked={values.allowedModels.includes(rate.model)} /> {rate.label} <code>{rate.model}</code>
              </label>
            ))}
          </div>
          <FieldError id={id('models-error')} message={errors.models} />
        </fieldset>
        <label for={id('cidrs')}>Allowed addresses</label>
        <p class="hint muted" id={id('cidrs-hint')}>
          One IP address or CIDR range a line (IPv4 or IPv6, at most 50), such as <code>203.0.113.7</code> or <code>198.51.100.0/24</code>. Empty: any address.
        </p>
        <textarea id={id('cidrs')} name="cidrs" rows={3} aria-invalid={invalid('cidrs')} aria-describedby={describedBy('cidrs', id('cidrs-hint'))}>
          {values.cidrs}
        </textarea>
        <FieldError id={id('cidrs-error')} message={errors.cidrs} />
        <div class="field-row">
          <div>
            <label for={id('expires')}>Last day it works (UTC)</label>
            <input id={id('expires')} name="expires" type="date" value={values.expires} placeholder="YYYY-MM-DD" aria-invalid={invalid('expires')} aria-describedby={describedBy('expires')} />
            <FieldError id={id('expires-error')} message={errors.expires} />
          </div>
          <div>
            <label for={id('rpm')}>Requests a minute</label>
            <input id={id('rpm')} name="requests_per_minute" inputmode="numeric" value={values.requestsPerMinute} placeholder="no limit" aria-invalid={invalid('requests_per_minute')} aria-describedby={describedBy('requests_per_minute')} />
            <FieldError id={id('requests_per_minute-error')} message={errors.requests_per_minute} />
          </div>
        </div>
        <p class="form-actions">
          <button type="submit">Save controls</button>
          {props.saved ? (
            <span class="notice" role="status">
              Saved.
            </span>
          ) : null}
        </p>
      </form>
    </details>
  );
}

function KeyLimitsForm(props: { apiKey: ApiKey; failed?: KeysPanelProps['limitErrors'] }) {
  const { apiKey } = props;
  const failed = props.failed?.keyId === apiKey.id ? props.failed : undefined;
  const errors = failed?.errors ?? {};
  const id = (name: string) => `key-${apiKey.id}-${name}`;
  return (
    <form class="key-limits" method="post" action={`/keys/${apiKey.id}/limits`} hx-post={`/keys/${apiKey.id}/limits`} hx-target="#keys-panel" hx-swap="outerHTML">
      <label for={id('monthly')}>Monthly limit (credits)</label>
      <input id={id('monthly')} name="monthly_limit" inputmode="decimal" value={failed?.values.monthly_limit ?? creditsFieldText(apiKey.monthly_limit_mc)} placeholder="none" aria-invalid={errors.monthly_limit ? 'true' : undefined} />
      <label for={id('flight')}>Calls at once</label>
      <input id={id('flight')} name="max_in_flight" inputmode="numeric" value={failed?.values.max_in_flight ?? String(apiKey.max_in_flight)} aria-invalid={errors.max_in_flight ? 'true' : undefined} />
      {Object.values(errors).map((message) => (
        <p class="field-error">{message}</p>
      ))}
      <button type="submit" class="secondary">
        Save limits
      </button>
    </form>
  );
}

function NewKey(props: { keyText: string; name: string; publicUrl: string }) {
  return (
    <section class="card new-key" hx-history="false" aria-labelledby="new-key-title">
      <h2 id="new-key-title">Your new key “{props.name}”</h2>
      <p>
        <strong>Copy it now: it is shown only once.</strong> We keep only a hash of it.
      </p>
      <p class="secret-row">
        <code id="new-key-value">{props.keyText}</code>{' '}
        <button type="button" class="secondary" data-copy-target="new-key-value">
          Copy
        </button>
      </p>
      <p>Try it:</p>
      <CurlExample publicUrl={props.publicUrl} apiKey={props.keyText} />
    </section>
  );
}

/** A key's spend this month against its monthly limit: "12.345 of 100 credits (12%)", in USD beside. */
function KeySpend(props: { spentMc: number; limitMc: number | null; month: string }) {
  const percent = props.limitMc !== null && props.limitMc > 0 ? Math.floor((props.spentMc * 100) / props.limitMc) : null;
  return (
    <span class="key-spend" data-mc={props.spentMc} title={`${props.month} (UTC)`}>
      {creditsExactGroupedText(props.spentMc)}
      {props.limitMc === null ? ' credits, no limit' : ` of ${creditsProseText(props.limitMc)} credits (${percent ?? 100}%)`}
      <span class="muted"> ≈ {usdRoundedUpText(props.spentMc)}</span>
    </span>
  );
}

export function KeysPanel(props: KeysPanelProps) {
  const errors = props.errors ?? {};
  const activeKeys = props.keys.filter((key) => key.revoked_at_ms === null);
  return (
    <div id="keys-panel">
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.newKey ? <NewKey keyText={props.newKey.key} name={props.newKey.name} publicUrl={props.publicUrl} /> : null}
      <form class="card form" method="post" action="/keys" hx-post="/keys" hx-target="#keys-panel" hx-swap="outerHTML" hx-disabled-elt="find button">
        <h2>Create a key</h2>
        <Field label="Name" name="name" value={props.nameValue} error={errors.name} required hint="Which app or script will use it, so you can tell keys apart." />
        <p>
          <button type="submit">Create key</button>
        </p>
      </form>
      <h2>Your keys</h2>
      {props.keys.length === 0 ? (
        <p class="muted">No keys yet. Create one to call the API from your code.</p>
      ) : (
        <div class="table-wrap">
          <table class="keys-table stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Last used (UTC)</th>
                <th scope="col">Spent this month</th>
                <th scope="col">Limits</th>
                <th scope="col">Controls</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {props.keys.map((key) => (
                <tr data-key-id={key.id}>
                  <th scope="row">{key.name}</th>
                  <td data-label="Key">
                    <code>{key.prefix}…</code>
                  </td>
                  <td data-label="Created (UTC)">{utcDateTime(key.created_at_ms)}</td>
                  <td data-label="Last used (UTC)">{key.last_used_at_ms === null ? 'never' : utcDateTime(key.last_used_at_ms)}</td>
                  <td data-label="Spent this month">
                    <KeySpend spentMc={props.spentThisMonthMc.get(key.id) ?? 0} limitMc={key.monthly_limit_mc} month={props.month} />
                  </td>
                  <td data-label="Limits">{key.revoked_at_ms === null ? <KeyLimitsForm apiKey={key} failed={props.limitErrors} /> : '—'}</td>
                  <td class="key-controls-summary" data-label="Controls">
                    {key.revoked_at_ms === null ? (
                      <>
                        {controlsSummary(keyControlsOf(key), props.nowMs).map((line) => (
                          <span class="control-line">{line}</span>
                        ))}
                        <a href={`#key-${key.id}-controls`}>Edit controls</a>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td data-label="Status">
                    {key.revoked_at_ms !== null ? (
                      <span class="status-revoked">Revoked {utcDateTime(key.revoked_at_ms)}</span>
                    ) : (
                      <>
                        {expired(keyControlsOf(key), props.nowMs) ? <p class="status-revoked">Expired</p> : null}
                        {/* Without JavaScript the button opens a confirmation page (GET); htmx asks in a dialog and posts. */}
                        <form method="get" action={`/keys/${key.id}/revoke`} hx-post={`/keys/${key.id}/revoke`} hx-target="#keys-panel" hx-swap="outerHTML" hx-confirm={`Revoke “${key.name}”? Calls with it will fail at once.`}>
                          <button type="submit" class="secondary danger" aria-label={`Revoke ${key.name}`}>
                            Revoke
                          </button>
                        </form>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {activeKeys.length > 0 ? (
        <section aria-labelledby="key-controls-title">
          <h2 id="key-controls-title">Key controls</h2>
          <p class="muted">Which models each key may call, the addresses it may be used from, the last day it works and how many requests it may make a minute.</p>
          {activeKeys.map((key) => (
            <KeyControlsForm apiKey={key} controls={keyControlsOf(key)} rateCard={props.rateCard} nowMs={props.nowMs} failed={props.controlErrors} saved={props.savedControlsOf === key.id} />
          ))}
        </section>
      ) : null}
      <CsvLinksSection {...props.csvLinks} />
    </div>
  );
}
