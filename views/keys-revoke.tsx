// Revoking a key without JavaScript: the Revoke button opens this page (with JavaScript, htmx asks
// in a dialog instead), which says what revoking does and posts only when confirmed.
import type { ApiKey } from '../src/db/schema.ts';
import { keyLabel } from './labels.ts';

export function RevokeKeyConfirm(props: { apiKey: ApiKey }) {
  const { apiKey } = props;
  return (
    <section class="card narrow revoke-confirm" aria-labelledby="revoke-title">
      <h1 id="revoke-title">Revoke “{apiKey.name}”?</h1>
      <p>
        Calls with <code>{keyLabel(apiKey)}</code> will fail at once (401), and a revoked key cannot be turned back on. Its past calls stay on the
        Credits tab.
      </p>
      <form method="post" action={`/keys/${apiKey.id}/revoke`} class="confirm-actions">
        <button type="submit" class="danger-solid">
          Revoke the key
        </button>{' '}
        <a href="/keys">Cancel</a>
      </form>
    </section>
  );
}
