// "Copy link" beside each Download CSV (POST /credits/csv-links) and a link's revoke from the keys page
// (POST /credits/csv-links/:id/revoke). A plain form answers 303 to the keys page, which shows the new
// link once (sealed in a cookie across the redirect, as a new key is); htmx gets the link alone, under
// the form, and static/app.js copies it.
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { writeFlash } from '../web/flash-cookie.ts';
import { formFields } from '../web/form-data.ts';
import { render, wantsPartial } from '../web/render.tsx';
import { cursorSecret } from '../db/cursor.ts';
import { createCsvLink, CSV_LINK_PARAM, csvExportPath, CsvLinkLimitError, NEW_CSV_LINK_FLASH, revokeCsvLink } from '../exports/csv-links.ts';
import { parseCsvLinkForm } from './csv-link-form.ts';
import { NewCsvLink } from '../../views/csv-links.tsx';

/** Mounted under creditsRoutes' requireUser for /credits/*. */
export function csvLinkRoutes(ctx: AppContext) {
  const { config, db, clock } = ctx;
  const app = new Hono<AppEnv>();

  app.post('/credits/csv-links', async (c) => {
    const field = await formFields(c);
    const userId = c.get('user')!.id;
    const form = await parseCsvLinkForm(db, userId, { export: field('export'), query: field('query'), days: field('days') });
    let refusal: { status: 400 | 409; message: string } | null = form.ok ? null : { status: 400, message: form.message };
    let made: Awaited<ReturnType<typeof createCsvLink>> | null = null;
    if (form.ok) {
      try {
        made = await createCsvLink(db, clock, { userId, kind: form.kind, query: form.query, days: form.days });
      } catch (error) {
        if (!(error instanceof CsvLinkLimitError)) throw error;
        refusal = { status: 409, message: error.message };
      }
    }
    if (!form.ok || !made) {
      // htmx swaps a 400 under the form (escaped: the message may quote what was sent) and leaves a 409
      // unswapped, which static/app.js says above the form from its one line of text. Without
      // JavaScript the message is the page.
      const { status, message } = refusal!;
      const shown = () => (
        <p class="form-error" role="alert">
          {message}
        </p>
      );
      if (!wantsPartial(c)) return render(c, config, { title: 'CSV link', current: '/credits', status, page: shown });
      return status === 400 ? c.html(shown(), 400) : c.text(`${message}\n`, status);
    }
    const link = { url: `${config.publicUrl}${csvExportPath(form.kind)}?${form.query === '' ? '' : `${form.query}&`}${CSV_LINK_PARAM}=${made.token}`, expiresAtMs: made.expiresAtMs };
    c.header('Cache-Control', 'no-store');
    if (wantsPartial(c)) return c.html(<NewCsvLink url={link.url} expiresAtMs={link.expiresAtMs} copyNow />);
    writeFlash(c, config, await cursorSecret(db), NEW_CSV_LINK_FLASH, '/keys', userId, clock.now(), link);
    return c.redirect('/keys#csv-links', 303);
  });

  app.post('/credits/csv-links/:id/revoke', async (c) => {
    const linkId = Number(c.req.param('id'));
    const revoked = Number.isSafeInteger(linkId) && (await revokeCsvLink(db, clock, c.get('user')!.id, linkId));
    if (!revoked) return wantsPartial(c) ? c.text('No such CSV link on your account.\n', 404) : c.notFound();
    // htmx removes the row (an empty answer in its place).
    return wantsPartial(c) ? c.body(null, 200) : c.redirect('/keys?link_revoked=1#csv-links', 303);
  });

  return app;
}
