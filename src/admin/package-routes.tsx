// /admin/packages: the packages page and its forms (add, change). Mounted inside adminRoutes, behind its admin check.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import { creditsExactText, parseCreditsToMc } from '../money-text.ts';
import type { AppEnv } from '../web/env.ts';
import { formFields } from '../web/form-data.ts';
import { redirectTo, render } from '../web/render.tsx';
import { AdminNav } from '../../views/admin/admin-nav.tsx';
import { PackagesPage } from '../../views/admin/packages.tsx';
import type { FormProblem } from '../../views/admin/user-page.tsx';
import { adminActionsOn, reasonProblem } from './actions.ts';
import { allPackages, PackageConflictError, savePackageByAdmin, type PackageInput } from './package-actions.ts';

/** $100,000 and 100,000,000 credits at most: a typo's extra zeros are refused. */
export const MAX_PACKAGE_PRICE_CENTS = 10_000_000;
export const MAX_PACKAGE_CREDITS_MC = 100_000_000_000;
const MAX_NAME_CHARS = 60;
const FIELDS = ['id', 'name', 'price', 'credits', 'sort_order', 'active', 'reason'] as const;
const NOTICES: Record<string, string> = { add: 'The package was added.', change: 'The package was saved.' };

type Field = (name: string) => string;

function parsePackage(field: Field): { ok: true; pkg: PackageInput; reason: string } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const id = field('id').trim();
  if (!/^[a-z0-9-]{1,40}$/.test(id)) errors.id = 'Lower-case letters, digits and -, at most 40.';
  const name = field('name').trim();
  if (name === '' || name.length > MAX_NAME_CHARS) errors.name = `1 to ${MAX_NAME_CHARS} characters.`;
  const price = /^(\d{1,6})(?:\.(\d{2}))?$/.exec(field('price').trim());
  const priceCents = price ? Number(price[1]) * 100 + Number(price[2] ?? '0') : null;
  if (priceCents === null || priceCents < 50 || priceCents > MAX_PACKAGE_PRICE_CENTS) errors.price = 'Dollars, from 0.50 to 100000.00, e.g. 9.99.';
  const creditsMc = parseCreditsToMc(field('credits'));
  if (creditsMc === null || creditsMc <= 0 || creditsMc > MAX_PACKAGE_CREDITS_MC) errors.credits = `Credits with at most 3 decimals, more than 0 and at most ${creditsExactText(MAX_PACKAGE_CREDITS_MC)}.`;
  const order = field('sort_order').trim();
  if (!/^\d{1,4}$/.test(order)) errors.sort_order = 'A whole number from 0 to 9999.';
  const reason = field('reason').trim();
  const reasonError = reasonProblem(reason);
  if (reasonError) errors.reason = reasonError;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, reason, pkg: { id, name, priceCents: priceCents!, creditsMc: creditsMc!, active: field('active') === '1', sortOrder: Number(order) } };
}

export function packageRoutes(ctx: AppContext) {
  const { config, db, clock } = ctx;
  const app = new Hono<AppEnv>();

  async function page(c: Context<AppEnv>, problem: FormProblem | null = null, status: 200 | 422 = 200) {
    const [packages, actions] = await Promise.all([allPackages(db), adminActionsOn(db, null, 50, ['package_save'])]);
    return render(c, config, {
      title: 'Admin · Packages',
      current: '/admin',
      status,
      page: () => (
        <>
          <h1>Packages</h1>
          <AdminNav current="/admin/packages" />
          <PackagesPage packages={packages} actions={actions} problem={problem} notice={NOTICES[c.req.query('done') ?? ''] ?? null} />
        </>
      ),
    });
  }

  app.get('/admin/packages', (c) => page(c));

  for (const adding of [true, false]) {
    app.post(adding ? '/admin/packages/add' : '/admin/packages/change', async (c) => {
      const field = await formFields(c);
      const problemOf = (errors: Record<string, string>): FormProblem => ({
        form: /^(add-package|package-[a-z0-9-]{1,40})$/.test(field('form')) ? field('form') : 'add-package',
        errors,
        values: Object.fromEntries(FIELDS.map((name) => [name, field(name)])),
      });
      const parsed = parsePackage(field);
      if (!parsed.ok) return page(c, problemOf(parsed.errors), 422);
      try {
        await savePackageByAdmin(db, clock, c.get('user')!.id, parsed.pkg, parsed.reason, adding);
      } catch (error) {
        if (!(error instanceof PackageConflictError)) throw error;
        return page(c, problemOf({ id: error.message }), 422);
      }
      return redirectTo(c, `/admin/packages?done=${adding ? 'add' : 'change'}`);
    });
  }

  return app;
}
