// /keys: list, create (the key shown once), limits and controls, and revoke; the list of CSV links
// (made and revoked by src/credits/csv-link-routes.tsx). Every query is scoped to the signed-in user.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { takeFlash, writeFlash } from '../web/flash-cookie.ts';
import { wantsPartial } from '../web/render.tsx';
import { cursorSecret } from '../db/cursor.ts';
import { RevokeKeyConfirm } from '../../views/keys-revoke.tsx';
import { requireUser } from '../web/auth-middleware.ts';
import { formFieldLists, formFields } from '../web/form-data.ts';
import { currentRates } from '../pricing/rates.ts';
import { spendThisMonth } from '../usage/usage-queries.ts';
import { render } from '../web/render.tsx';
import { KeysPanel, type KeysPanelProps } from '../../views/keys.tsx';
import { createApiKey, keyNameProblem, listApiKeys, revokeApiKey, setKeyControls, setKeyLimits } from './keys.ts';
import { parseKeyLimits } from './limits-form.ts';
import { parseKeyControls, type KeyControlsValues } from './controls-form.ts';
import { listCsvLinks, NEW_CSV_LINK_FLASH } from '../exports/csv-links.ts';

/**
 * Revoke is confirmed on a page of its own without JavaScript (GET /keys/:id/revoke). A plain form
 * that worked answers 303 to /keys, so a refresh never posts it again (the new key crosses it in a
 * sealed cookie); htmx gets the panel in place.
 */
export function keysRoutes(ctx: AppContext) {
  const { config, db, clock } = ctx;
  const app = new Hono<AppEnv>();
  app.use('/keys', requireUser);
  app.use('/keys/*', requireUser);

  async function panel(c: Context<AppEnv>, extra: Partial<KeysPanelProps> = {}, status: 200 | 404 | 422 = 200) {
    const userId = c.get('user')!.id;
    const [keys, rates, links, spend] = await Promise.all([listApiKeys(db, userId), currentRates(db), listCsvLinks(db, clock, userId), spendThisMonth(db, userId, clock.now())]);
    // Each key's spend this month from the monthly rollup, the sum its monthly limit is checked against.
    const spentThisMonthMc = new Map(spend.byKey.flatMap((line) => (line.apiKeyId === null ? [] : [[line.apiKeyId, line.chargedMc] as const])));
    const props: KeysPanelProps = { keys, publicUrl: config.publicUrl, spentThisMonthMc, month: spend.month, rateCard: rates.map((rate) => ({ model: rate.model, label: rate.label })), nowMs: clock.now(), csvLinks: { links }, ...extra };
    // A page with a new key or CSV link on it must not be cached anywhere.
    const secretShown = Boolean(props.newKey || props.csvLinks.newLink);
    if (secretShown) c.header('Cache-Control', 'no-store');
    return render(c, config, {
      title: 'API keys',
      current: '/keys',
      status,
      noHistory: secretShown,
      page: () => (
        <>
          <h1>API keys</h1>
          <p class="muted">
            Keys authenticate calls to <code>{config.publicUrl}/v1</code> and the CSV exports. Send one as <code>Authorization: Bearer …</code>.
          </p>
          <KeysPanel {...props} />
        </>
      ),
      partial: () => <KeysPanel {...props} />,
    });
  }

  /** The new key crosses the plain form's redirect sealed in a cookie for /keys, read once. */
  type NewKey = NonNullable<KeysPanelProps['newKey']>;
  const NEW_KEY_FLASH = 'new_key';

  /** After a plain form: which key the notice names (the query carries only its id). */
  async function notice(c: Context<AppEnv>, keys: { id: number; name: string }[]): Promise<string | undefined> {
    const named = (param: string) => keys.find((key) => String(key.id) === c.req.query(param))?.name;
    const saved = named('saved');
    if (saved !== undefined) return `Limits saved for “${saved}”.`;
    const revoked = named('revoked');
    if (revoked !== undefined) return `“${revoked}” was revoked: calls with it now fail.`;
    return c.req.query('link_revoked') === undefined ? undefined : 'The CSV link was revoked: tools using it now get 410 Gone.';
  }

  app.get('/keys', async (c) => {
    const userId = c.get('user')!.id;
    const secret = await cursorSecret(db);
    const newKey = takeFlash<NewKey>(c, config, secret, NEW_KEY_FLASH, '/keys', userId, clock.now());
    if (newKey) return panel(c, { newKey });
    const newLink = takeFlash<NewLink>(c, config, secret, NEW_CSV_LINK_FLASH, '/keys', userId, clock.now());
    if (newLink) return panel(c, { csvLinks: { links: await listCsvLinks(db, clock, userId), newLink } });
    return panel(c, { notice: await notice(c, await listApiKeys(db, userId)) });
  });

  app.post('/keys', async (c) => {
    const field = await formFields(c);
    const name = field('name');
    const problem = keyNameProblem(name);
    if (problem) return panel(c, { nameValue: name, errors: { name: problem } }, 422);
    const userId = c.get('user')!.id;
    const { key, apiKey } = await createApiKey(db, clock, userId, name);
    if (wantsPartial(c)) return panel(c, { newKey: { key, name: apiKey.name } });
    writeFlash<NewKey>(c, config, await cursorSecret(db), NEW_KEY_FLASH, '/keys', userId, clock.now(), { key, name: apiKey.name });
    c.header('Cache-Control', 'no-store');
    return c.redirect('/keys', 303);
  });

  // A CSV link made by a plain form crosses its 303 to this page sealed in a cookie, as a new key does
  // (src/credits/csv-link-routes.tsx makes it).
  type NewLink = NonNullable<KeysPanelProps['csvLinks']['newLink']>;

  app.post('/keys/:id/limits', async (c) => {
    const keyId = Number(c.req.param('id'));
    const field = await formFields(c);
    const parsed = parseKeyLimits(field('monthly_limit'), field('max_in_flight'));
    if (!parsed.ok) return panel(c, { limitErrors: { keyId, errors: parsed.errors, values: { monthly_limit: field('monthly_limit'), max_in_flight: field('max_in_flight') } } }, 422);
    const saved = Number.isSafeInteger(keyId) && (await setKeyLimits(db, c.get('user')!.id, keyId, parsed.limits));
    if (!saved) return panel(c, {}, 404);
    return wantsPartial(c) ? panel(c) : c.redirect(`/keys?saved=${keyId}`, 303);
  });

  app.get('/keys/:id/revoke', async (c) => {
    const keyId = Number(c.req.param('id'));
    const apiKey = (await listApiKeys(db, c.get('user')!.id)).find((key) => key.id === keyId && key.revoked_at_ms === null);
    if (!apiKey) return panel(c, {}, 404);
    return render(c, config, { title: `Revoke ${apiKey.name}`, current: '/keys', page: () => <RevokeKeyConfirm apiKey={apiKey} /> });
  });

  app.post('/keys/:id/controls', async (c) => {
    const keyId = Number(c.req.param('id'));
    const { field, list } = await formFieldLists(c);
    const values: KeyControlsValues = { models: field('models'), allowedModels: list('allowed_model'), cidrs: field('cidrs'), expires: field('expires'), requestsPerMinute: field('requests_per_minute') };
    const rateCardModels = (await currentRates(db)).map((rate) => rate.model);
    const parsed = parseKeyControls(values, { rateCardModels, nowMs: clock.now() });
    if (!parsed.ok) return panel(c, { controlErrors: { keyId, errors: parsed.errors, values } }, 422);
    const saved = Number.isSafeInteger(keyId) && (await setKeyControls(db, c.get('user')!.id, keyId, parsed.controls));
    if (!saved) return panel(c, {}, 404);
    return panel(c, { savedControlsOf: keyId });
  });

  app.post('/keys/:id/revoke', async (c) => {
    const keyId = Number(c.req.param('id'));
    const revoked = Number.isSafeInteger(keyId) && (await revokeApiKey(db, clock, c.get('user')!.id, keyId));
    if (!revoked) return panel(c, {}, 404);
    return wantsPartial(c) ? panel(c) : c.redirect(`/keys?revoked=${keyId}`, 303);
  });

  return app;
}
