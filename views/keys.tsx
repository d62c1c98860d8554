// The API keys page: a new key shown once (copy button, curl example), the list, create and revoke.
import type { ApiKey } from '../src/db/schema.ts';
import { Field } from './form.tsx';
import { utcDateTime } from './time.ts';
import { creditsFieldText } from '../src/money-text.ts';
import { CurlExample } from './credits/first-call.tsx';

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

export function KeysPanel(props: KeysPanelProps) {
  const errors = props.errors ?? {};
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
                <th scope="col">Limits</th>
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
                  <td data-label="Limits">{key.revoked_at_ms === null ? <KeyLimitsForm apiKey={key} failed={props.limitErrors} /> : '—'}</td>
                  <td data-label="Status">
                    {key.revoked_at_ms !== null ? (
                      <span class="status-revoked">Revoked {utcDateTime(key.revoked_at_ms)}</span>
                    ) : (
                      // Without JavaScript the button opens a confirmation page (GET); htmx asks in a dialog and posts.
                      <form method="get" action={`/keys/${key.id}/revoke`} hx-post={`/keys/${key.id}/revoke`} hx-target="#keys-panel" hx-swap="outerHTML" hx-confirm={`Revoke “${key.name}”? Calls with it will fail at once.`}>
                        <button type="submit" class="secondary danger" aria-label={`Revoke ${key.name}`}>
                          Revoke
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
