// Buying credits over HTTP: POST /credits/checkout, the success and cancel returns and the pending
// poll, the demo checkout, receipts, and POST /webhooks/stripe. Thin: parse, call billing, render.
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { loadOverview } from '../credits/page-data.ts';
import type { AppEnv } from '../web/env.ts';
import { requireUser } from '../web/auth-middleware.ts';
import { formFields } from '../web/form-data.ts';
import { redirectTo, render, wantsPartial } from '../web/render.tsx';
import { DemoCheckoutPage } from '../../views/billing/demo-checkout.tsx';
import { PaymentsOffNotice, ProviderDownNotice, PurchaseNotFoundNotice, UnknownPackageNotice } from '../../views/billing/notices.tsx';
import { CheckoutReturnPage, PurchaseStatusPartial, purchaseStatusTitle, purchaseStatusView } from '../../views/billing/purchase-status.tsx';
import type { BalanceCardProps } from '../../views/credits/balance-card.tsx';
import { DemoReceipt } from '../../views/billing/receipt.tsx';
import { cancelCheckout, pendingPollIsOver, refreshPurchase, returnFromCheckout, startCheckout } from './checkout.ts';
import { billingDeps, type BillingDeps } from './deps.ts';
import { DemoSessionNotOpenError, type DemoProvider } from './demo-provider.ts';
import { errorText, PackageNotFoundError, PaymentProviderError, PaymentsOffError, WebhookSignatureError } from './errors.ts';
import { findPurchaseByReferenceForUser, findPurchaseBySessionForUser, findPurchaseForUser } from './purchases.ts';
import { handleStripeEvent, verifyStripeEvent } from './webhook.ts';
import type { Purchase } from '../db/schema.ts';

export interface BillingRouteDeps {
  db: DB;
  clock: Clock;
  log: (line: string) => void;
}

type Problem = 'off' | 'package' | 'provider' | 'purchase';

export function billingRoutes(config: Config, routeDeps: BillingRouteDeps) {
  const { db, clock, log } = routeDeps;
  // null with PAYMENTS=off: nothing can be bought, and the pages say so.
  const deps: BillingDeps | null = billingDeps(config, db, clock, log);
  const app = new Hono<AppEnv>();
  for (const path of ['/credits/checkout', '/credits/checkout/*', '/credits/demo-checkout/*', '/credits/receipts/*']) app.use(path, requireUser);

  // The one place billing errors become statuses.
  function problemPage(c: Context<AppEnv>, problem: Problem, detail = '', htmxRedirect = true) {
    const parts: Record<Problem, { status: 400 | 404 | 502; title: string; page: () => Child }> = {
      off: { status: 404, title: 'Buying is off', page: () => <PaymentsOffNotice /> },
      package: { status: 400, title: 'No such package', page: () => <UnknownPackageNotice packageId={detail} /> },
      provider: { status: 502, title: 'Checkout unavailable', page: () => <ProviderDownNotice /> },
      purchase: { status: 404, title: 'Purchase not found', page: () => <PurchaseNotFoundNotice /> },
    };
    const { status, title, page } = parts[problem];
    // htmx does not swap an error answer: send it to a page that shows the problem instead.
    if (htmxRedirect && c.req.header('HX-Request') === 'true') return redirectTo(c, `/credits/checkout/problem?reason=${problem}&detail=${encodeURIComponent(detail)}`);
    return render(c, config, { title, current: '/credits', page, status });
  }

  function problemFor(c: Context<AppEnv>, error: unknown) {
    if (error instanceof PaymentsOffError) return problemPage(c, 'off');
    if (error instanceof PackageNotFoundError) return problemPage(c, 'package', error.packageId);
    if (error instanceof PaymentProviderError) return problemPage(c, 'provider');
    throw error;
  }

  app.post('/credits/checkout', async (c) => {
    if (!deps) return problemFor(c, new PaymentsOffError());
    const field = await formFields(c);
    try {
      const started = await startCheckout(deps, c.get('user')!, field('package').trim(), field('save_card') === 'on');
      return redirectTo(c, started.url);
    } catch (error) {
      return problemFor(c, error);
    }
  });

  app.get('/credits/checkout/problem', (c) => {
    const reason = c.req.query('reason') as Problem;
    const known: Problem[] = ['off', 'package', 'provider', 'purchase'];
    return problemPage(c, known.includes(reason) ? reason : 'purchase', c.req.query('detail') ?? '', false);
  });

  /** The success return, the poll and the cancel return: what the purchase is now, in one card. */
  async function statusPage(c: Context<AppEnv>, purchase: Purchase, afterCancel = false) {
    const view = purchaseStatusView(purchase, deps ? pendingPollIsOver(deps, purchase) : true);
    // The poll's partial carries the balance card only once credited: it is loaded only when shown.
    let card: BalanceCardProps | null = null;
    if (!wantsPartial(c) || view === 'complete') {
      const { wallet, outOfCredits, canBuy, limits } = await loadOverview({ config, db, clock }, purchase.user_id);
      card = { wallet, outOfCredits, canBuy, limits };
    }
    return render(c, config, {
      title: purchaseStatusTitle(purchase, view, afterCancel),
      current: '/credits',
      page: () => <CheckoutReturnPage purchase={purchase} view={view} card={card} afterCancel={afterCancel} />,
      partial: () => <PurchaseStatusPartial purchase={purchase} view={view} card={card} />,
    });
  }

  app.get('/credits/checkout/success', async (c) => {
    const purchase = await findPurchaseBySessionForUser(db, c.get('user')!.id, c.req.query('session_id') ?? '');
    if (!purchase) return problemPage(c, 'purchase');
    return statusPage(c, deps ? await returnFromCheckout(deps, purchase) : purchase);
  });

  app.get('/credits/checkout/status/:purchase', async (c) => {
    const purchase = await findPurchaseForUser(db, c.get('user')!.id, c.req.param('purchase'));
    if (!purchase) return problemPage(c, 'purchase');
    const stillPolling = deps && purchase.status === 'pending' && !pendingPollIsOver(deps, purchase);
    return statusPage(c, stillPolling ? await refreshPurchase(deps, purchase) : purchase);
  });

  app.get('/credits/checkout/cancel', async (c) => {
    const purchase = await findPurchaseForUser(db, c.get('user')!.id, c.req.query('purchase') ?? '');
    if (!purchase) return problemPage(c, 'purchase');
    // Whatever came of the cancel (too late: paid, or under review) the page tells it as the return page does.
    return statusPage(c, deps ? await cancelCheckout(deps, purchase) : purchase, true);
  });

  // The demo provider's checkout page, paid or cancelled by hand; fulfilment then runs as for Stripe.
  const demo = deps?.provider.mode === 'demo' ? (deps.provider as DemoProvider) : null;

  /** The owner's demo purchase of the session in the path (a demo purchase always has its demo session). */
  async function demoPurchase(c: Context<AppEnv>): Promise<Purchase | undefined> {
    const purchase = demo ? await findPurchaseBySessionForUser(db, c.get('user')!.id, c.req.param('session') ?? '') : undefined;
    return purchase?.payment_mode === 'demo' ? purchase : undefined;
  }

  app.get('/credits/demo-checkout/:session', async (c) => {
    const purchase = await demoPurchase(c);
    if (!purchase) return problemPage(c, 'purchase');
    const session = await demo!.retrieveSession(purchase.checkout_session_id!);
    return render(c, config, {
      title: 'Checkout',
      current: '/credits',
      page: () => <DemoCheckoutPage purchase={purchase} sessionId={session.id} sessionStatus={session.status} />,
    });
  });

  app.post('/credits/demo-checkout/:session/pay', async (c) => {
    const purchase = await demoPurchase(c);
    if (!purchase) return problemPage(c, 'purchase');
    try {
      await demo!.pay(purchase.checkout_session_id!);
    } catch (error) {
      // Paid twice (a double click) or already expired: the return page shows what it is.
      if (!(error instanceof DemoSessionNotOpenError)) throw error;
    }
    return redirectTo(c, `/credits/checkout/success?session_id=${encodeURIComponent(purchase.checkout_session_id!)}`);
  });

  app.post('/credits/demo-checkout/:session/cancel', async (c) => {
    const purchase = await demoPurchase(c);
    if (!purchase) return problemPage(c, 'purchase');
    return redirectTo(c, `/credits/checkout/cancel?purchase=${purchase.public_id}`);
  });

  // Ledger rows link here by their reference: Stripe's receipt page, or the local one for demo payments.
  app.get('/credits/receipts/:reference', async (c) => {
    const purchase = await findPurchaseByReferenceForUser(db, c.get('user')!.id, c.req.param('reference'));
    if (!purchase || purchase.status !== 'paid') return problemPage(c, 'purchase');
    if (purchase.payment_mode === 'demo') return render(c, config, { title: 'Receipt', current: '/credits', page: () => <DemoReceipt purchase={purchase} /> });
    if (!purchase.receipt_url) return problemPage(c, 'purchase');
    return c.redirect(purchase.receipt_url, 303);
  });

  app.post('/webhooks/stripe', async (c) => {
    if (!deps || deps.provider.mode !== 'stripe') return c.text('Stripe payments are not enabled on this server.', 404);
    // The raw body, exactly as received: the signature is over these bytes.
    const rawBody = await c.req.text();
    let event;
    try {
      event = verifyStripeEvent(rawBody, c.req.header('stripe-signature'), config.stripeWebhookSecret);
    } catch (error) {
      if (!(error instanceof WebhookSignatureError)) throw error;
      log(`webhook refused: ${error.message}`);
      return c.text('The Stripe signature did not verify.', 400);
    }
    try {
      const outcome = await handleStripeEvent(deps, event);
      return c.json({ received: true, outcome });
    } catch (error) {
      // Nothing was recorded, so Stripe's retry applies the event again from scratch.
      log(`webhook ${event.type} ${event.id} failed: ${errorText(error)}`);
      return c.json({ received: false, error: 'processing failed; retry later' }, 500);
    }
  });

  return app;
}
