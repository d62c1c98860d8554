// Buying credits on the Credits tab: POST /credits/checkout, the success and cancel returns and the
// pending poll, the demo checkout, and receipts. Thin: parse, call billing, render (webhooks are
// their own sub-app, src/webhooks/).
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import { loadOverview } from './page-data.ts';
import type { AppEnv } from '../web/env.ts';
import { requireUser } from '../web/auth-middleware.ts';
import { formFields } from '../web/form-data.ts';
import { redirectTo, render, wantsPartial } from '../web/render.tsx';
import { describeError } from '../errors/descriptions.ts';
import { DemoCheckoutPage } from '../../views/billing/demo-checkout.tsx';
import { ProblemNotice, type ProblemNoticeProps } from '../../views/billing/notices.tsx';
import { CheckoutReturnPage, PurchaseStatusPartial, purchaseStatusTitle, purchaseStatusView } from '../../views/billing/purchase-status.tsx';
import type { BalanceCardProps } from '../../views/credits/balance-card.tsx';
import { DemoReceipt } from '../../views/billing/receipt.tsx';
import { cancelCheckout, pendingPollIsOver, refreshPurchase, returnFromCheckout, startCheckout } from '../billing/checkout.ts';
import { DemoSessionNotOpenError, type DemoProvider } from '../billing/demo-provider.ts';
import { PackageNotFoundError, PaymentProviderError, PaymentsOffError, PurchaseNotFoundError } from '../billing/errors.ts';
import { findPurchaseByReferenceForUser, findPurchaseBySessionForUser, findPurchaseForUser } from '../billing/purchases.ts';
import type { Purchase } from '../db/schema.ts';

/** The problems a checkout page shows, by the reason in /credits/checkout/problem's query. */
type Problem = 'off' | 'package' | 'provider' | 'purchase';

/** Each problem's error (for its status and message), page title, heading and next step. */
const PROBLEMS: Record<Problem, { error: (detail: string) => Error; title: string; heading: string; link: ProblemNoticeProps['link'] }> = {
  off: { error: () => new PaymentsOffError(), title: 'Buying is off', heading: 'Buying credits is turned off', link: { href: '/credits', text: 'Back to Credits' } },
  package: { error: (detail) => new PackageNotFoundError(detail), title: 'No such package', heading: 'No such package', link: { href: '/credits#packages', text: 'See the packages' } },
  provider: {
    // Shown again after a redirect: the provider's own failure is not kept, only that there was one.
    error: () => new PaymentProviderError(new Error('the payment provider failed')),
    title: 'Checkout unavailable',
    heading: 'Checkout is not available right now',
    link: { href: '/credits#packages', text: 'Back to the packages' },
  },
  purchase: { error: () => new PurchaseNotFoundError(), title: 'Purchase not found', heading: 'Purchase not found', link: { href: '/credits', text: 'Back to Credits' } },
};

/** The problem a billing error is, and its detail; null for any other error. */
function problemOf(error: unknown): { problem: Problem; detail: string } | null {
  if (error instanceof PaymentsOffError) return { problem: 'off', detail: '' };
  if (error instanceof PackageNotFoundError) return { problem: 'package', detail: error.packageId };
  if (error instanceof PaymentProviderError) return { problem: 'provider', detail: '' };
  if (error instanceof PurchaseNotFoundError) return { problem: 'purchase', detail: '' };
  return null;
}

export function checkoutRoutes(ctx: AppContext) {
  const { config, db } = ctx;
  // null with PAYMENTS=off: nothing can be bought, and the pages say so.
  const deps = ctx.billing;
  const app = new Hono<AppEnv>();
  for (const path of ['/credits/checkout', '/credits/checkout/*', '/credits/purchases/*', '/credits/demo-checkout/*', '/credits/receipts/*']) app.use(path, requireUser);

  /** A problem's page, its status and message as src/errors/descriptions.ts describes its error. */
  function problemPage(c: Context<AppEnv>, problem: Problem, detail = '', htmxRedirect = true) {
    // htmx does not swap an error answer: send it to a page that shows the problem instead.
    if (htmxRedirect && c.req.header('HX-Request') === 'true') return redirectTo(c, `/credits/checkout/problem?reason=${problem}&detail=${encodeURIComponent(detail)}`);
    const { error, title, heading, link } = PROBLEMS[problem];
    const { status, message } = describeError(error(detail), config)!;
    return render(c, config, { title, current: '/credits', page: () => <ProblemNotice heading={heading} message={message} link={link} />, status });
  }

  function problemFor(c: Context<AppEnv>, error: unknown) {
    const found = problemOf(error);
    if (!found) throw error;
    return problemPage(c, found.problem, found.detail);
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
    const reason = c.req.query('reason') ?? '';
    return problemPage(c, Object.hasOwn(PROBLEMS, reason) ? (reason as Problem) : 'purchase', c.req.query('detail') ?? '', false);
  });

  /** The success return, the poll and the cancel return: what the purchase is now, in one card. */
  async function statusPage(c: Context<AppEnv>, purchase: Purchase, afterCancel = false) {
    const view = purchaseStatusView(purchase, deps ? pendingPollIsOver(deps, purchase) : true);
    // The poll's partial carries the balance card only once credited: it is loaded only when shown.
    let card: BalanceCardProps | null = null;
    if (!wantsPartial(c) || view === 'complete') {
      const { wallet, outOfCredits, canBuy, limits, promo, newAccount, runOutDays } = await loadOverview(ctx, purchase.user_id);
      card = { wallet, outOfCredits, canBuy, limits, promo, newAccount, runOutDays };
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

  // Cancel from the purchases list: a purchase left at checkout is ended here (its session expired
  // so it can no longer be paid); a plain form, so the answer is a 303 back to the list.
  app.post('/credits/purchases/:purchase/cancel', async (c) => {
    const purchase = await findPurchaseForUser(db, c.get('user')!.id, c.req.param('purchase'));
    if (!purchase || purchase.kind === 'auto_recharge') return problemPage(c, 'purchase');
    if (deps) await cancelCheckout(deps, purchase);
    return redirectTo(c, '/credits#purchases');
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

  return app;
}
