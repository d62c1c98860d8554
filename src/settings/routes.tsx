// /settings/billing: read and save the billing settings form (a 422 re-renders it with fields marked;
// a plain form that saved answers 303 to the page saying so).
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { requireUser } from '../web/auth-middleware.ts';
import { render, wantsPartial } from '../web/render.tsx';
import { activePackages } from '../pricing/packages.ts';
import { currentRates } from '../pricing/rates.ts';
import { BillingForm, formValuesFrom, RemoveCardForm, type BillingFormValues } from '../../views/settings/billing.tsx';
import { billingSettings, parseSettingsForm, saveBillingSettings } from './billing-settings.ts';
import { savedCard } from '../auto-recharge/saved-card.ts';
import { removeSavedCard } from '../billing/remove-card.ts';
import { CardNotRemovedError } from '../billing/errors.ts';
import { describeError } from '../errors/descriptions.ts';

/** What the form says on top after a plain form's 303, by the `done` in the query. */
const NOTICES: Record<string, string> = {
  saved: 'Saved.',
  card_removed: 'The saved card was removed.',
  card_removed_recharge_off: 'The saved card was removed, and auto-recharge is now off: it has no card left to charge.',
};

export function settingsRoutes({ config, db, clock, billing }: AppContext) {
  const app = new Hono<AppEnv>();
  app.use('/settings/*', requireUser);

  async function page(c: Context<AppEnv>, values: BillingFormValues | null, errors: Record<string, string> | undefined, notice: string | null, problem?: { message: string; status: ContentfulStatusCode }) {
    const userId = c.get('user')!.id;
    const [packages, rates, card, settings] = await Promise.all([activePackages(db), currentRates(db), savedCard(db, userId), billingSettings(db, userId)]);
    const form = () => (
      <BillingForm values={values ?? formValuesFrom(settings, rates)} errors={errors} packages={packages} rates={rates} card={card} canBuy={config.payments !== 'off'} notice={notice} problem={problem?.message} />
    );
    return render(c, config, {
      title: 'Billing settings',
      current: '/settings/billing',
      status: problem?.status ?? (errors ? 422 : 200),
      page: () => (
        <>
          <h1>Billing settings</h1>
          {form()}
          {card && billing ? <RemoveCardForm card={card} /> : null}
        </>
      ),
      partial: form,
    });
  }

  app.get('/settings/billing', (c) => {
    const done = c.req.query('saved') === '1' ? 'saved' : (c.req.query('done') ?? '');
    return page(c, null, undefined, Object.hasOwn(NOTICES, done) ? NOTICES[done]! : null);
  });

  // Remove the saved card (a plain form of its own): detached at the provider, forgotten here,
  // auto-recharge off, and a 303 to the page saying so.
  app.post('/settings/billing/card/remove', async (c) => {
    if (!billing) return c.redirect('/settings/billing', 303);
    let done = 'card_removed';
    try {
      const removed = await removeSavedCard(billing, c.get('user')!.id);
      if (removed?.autoRechargeTurnedOff) done = 'card_removed_recharge_off';
    } catch (error) {
      if (!(error instanceof CardNotRemovedError)) throw error;
      const { status, message } = describeError(error, config)!;
      return page(c, null, undefined, null, { message, status: status as ContentfulStatusCode });
    }
    return c.redirect(`/settings/billing?done=${done}`, 303);
  });

  app.post('/settings/billing', async (c) => {
    const body = await c.req.parseBody();
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
    const modelCaps = Object.fromEntries(
      Object.keys(body)
        .map((name) => /^model_cap\[(.+)\]$/.exec(name))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, text(m[0])]),
    );
    const values: BillingFormValues = {
      low_balance_threshold: text('low_balance_threshold'),
      auto_recharge: text('auto_recharge') === 'on',
      auto_recharge_threshold: text('auto_recharge_threshold'),
      auto_recharge_package: text('auto_recharge_package'),
      auto_recharge_monthly_limit: text('auto_recharge_monthly_limit'),
      monthly_cap: text('monthly_cap'),
      model_caps: modelCaps,
    };
    const userId = c.get('user')!.id;
    const [packages, rates, card] = await Promise.all([activePackages(db), currentRates(db), savedCard(db, userId)]);
    const parsed = parseSettingsForm(values, {
      packagesMc: new Map(packages.map((p) => [p.id, p.credits_mc])),
      models: rates.map((r) => r.model),
      hasSavedCard: card !== null,
    });
    if (!parsed.ok) return page(c, values, parsed.errors, null);
    await saveBillingSettings(db, clock, userId, parsed.settings);
    // A plain form goes on by 303, so a refresh posts nothing again; htmx gets the form in place.
    return wantsPartial(c) ? page(c, null, undefined, NOTICES.saved!) : c.redirect('/settings/billing?saved=1', 303);
  });

  return app;
}
