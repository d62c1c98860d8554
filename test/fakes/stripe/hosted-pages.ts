// The pages a browser opens on the fake: the hosted Checkout that `session.url` points at, and the `receipt_url` receipts.
import type { ServerResponse } from 'node:http';
import { paySession } from './checkout-sessions.ts';
import type { Store } from './store.ts';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location });
  res.end();
}

const money = (amount: number, currency: string) => `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;

export function hosted(store: Store, method: string, path: string, res: ServerResponse): void {
  const pay = /^\/pay\/([^/]+)(\/cancel)?$/.exec(path);
  const session = pay ? store.sessions.get(decodeURIComponent(pay[1]!)) : undefined;
  if (pay && session) {
    const cancel = pay[2] !== undefined;
    if (method === 'POST' && cancel) return redirect(res, session.cancel_url ?? `${store.baseUrl}/pay/${session.id}`);
    if (method === 'POST' && session.status === 'open') {
      paySession(store, session.id);
      return redirect(res, (session.success_url ?? `${store.baseUrl}/pay/${session.id}`).replace('{CHECKOUT_SESSION_ID}', session.id));
    }
    const items = store.sessionExtras.get(session.id)!.lineItems.map((item) => `<li>${escapeHtml(item.name)} × ${item.quantity}: ${money(item.unitAmount * item.quantity, session.currency!)}</li>`);
    const actions =
      session.status === 'open'
        ? `<form method="post" action="/pay/${session.id}"><button>Pay ${money(session.amount_total!, session.currency!)}</button></form><form method="post" action="/pay/${session.id}/cancel"><button>Cancel</button></form>`
        : `<p>This session is ${escapeHtml(session.status ?? 'unknown')}.</p>`;
    return page(res, 200, 'Fake Stripe Checkout', `<ul>${items.join('')}</ul>${actions}`);
  }
  const receipt = /^\/receipts\/([^/]+)$/.exec(path);
  const charge = receipt ? store.charges.get(decodeURIComponent(receipt[1]!)) : undefined;
  if (method === 'GET' && charge) {
    const refunded = charge.amount_refunded > 0 ? `<p>Refunded ${money(charge.amount_refunded, charge.currency)}</p>` : '';
    return page(res, 200, `Receipt ${charge.id}`, `<p>Paid ${money(charge.amount, charge.currency)}</p>${refunded}`);
  }
  page(res, 404, 'Not found', '');
}
