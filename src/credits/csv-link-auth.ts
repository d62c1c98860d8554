// A CSV export fetched with a CSV link (src/exports/csv-links.ts): the link's user, for this export with
// exactly its filters, and nothing else; or one line of text, 403 (not a link for this request) or 410
// (revoked or expired). Whatever cookie or key came with it, the link decides whose export it is.
import type { MiddlewareHandler } from 'hono';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { checkCsvLink } from '../exports/csv-links.ts';

export function csvLinkAuth(ctx: Pick<AppContext, 'db' | 'clock'>): MiddlewareHandler<AppEnv> {
  const { db, clock } = ctx;
  return async (c, next) => {
    const checked = await checkCsvLink(db, clock, c.req.path, new URL(c.req.url).searchParams);
    if (!checked.ok) return c.text(`${checked.refusal.message}\n`, checked.refusal.kind === 'gone' ? 410 : 403, { 'cache-control': 'no-store' });
    const user = await db.selectFrom('users').selectAll().where('id', '=', checked.userId).executeTakeFirst();
    if (!user) return c.text('This link is not valid.\n', 403);
    c.set('user', user);
    c.set('session', null);
    c.set('apiKey', null);
    await next();
  };
}
