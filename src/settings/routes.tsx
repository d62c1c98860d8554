// /settings/billing: read and save the billing settings form (a 422 re-renders it with fields marked;
// a plain form that saved answers 303 to the page saying so).
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { requireUser } from '../web/auth-middleware.ts';
import { render, wantsPartial } from '../web/render.tsx';
import { activePackages } from '../pricing/packages.ts';
import { currentRates } from '../pricing/rates.ts';
import { BillingForm, formValuesFrom, type BillingFormValues } from '../../views/settings/billing.tsx';
import { billingSettings, parseSettingsForm, saveBillingSettings } from './billing-settings.ts';
import { savedCard } from '../auto-recharge/saved-card.ts';

export function settingsRoutes({ config, db, clock }: AppContext) {
  const app = new Hono<AppEnv>();
  app.use('/settings/*', requireUser);

  async function page(c: Context<AppEnv>, values: BillingFormValues | null, errors: Record<string, string> | undefined, saved: boolean) {
    const userId = c.get('user')!.id;
    const [packages, rates, card, settings] = await Promise.all([activePackages(db), currentRates(db), savedCard(db, userId), billingSettings(db, userId)]);
    const form = () => (
      <BillingForm values={values ?? formValuesFrom(settings, rates)} errors={errors} packages={packages} rates={rates} card={card} canBuy={config.payments !== 'off'} saved={saved} />
    );
    return render(c, config, {
      title: 'Billing settings',
      current: '/settings/billing',
      status: errors ? 422 : 200,
      page: () => (
        <>
          <h1>Billing settings</h1>
          {form()}
        </>
      ),
      partial: form,
    });
  }

  app.get('/settings/billing', (c) => page(c, null, undefined, c.req.query('saved') === '1'));

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
    if (!parsed.ok) return page(c, values, parsed.errors, false);
    await saveBillingSettings(db, clock, userId, parsed.settings);
    // A plain form goes on by 303, so a refresh posts nothing again; htmx gets the form in place.
    return wantsPartial(c) ? page(c, null, undefined, true) : c.redirect('/settings/billing?saved=1', 303);
  });

  return app;
}
