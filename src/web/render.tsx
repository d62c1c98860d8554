// The partial-or-full rule (a partial for htmx, the full page otherwise; README, The Credits tab) and redirects that work with and without htmx.
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isDemo, type Config } from '../config.ts';
import { Layout } from '../../views/layout.tsx';
import type { AppEnv } from './env.ts';
import { isAdmin } from '../users/admin-access.ts';

/** A partial for htmx's own requests, a full page for everything else (including history restores). */
export function wantsPartial(c: Context<AppEnv>): boolean {
  return c.req.header('HX-Request') === 'true' && c.req.header('HX-History-Restore-Request') !== 'true';
}

export interface PageParts {
  title: string;
  /** The page's content inside the shared layout. */
  page: () => Child;
  /** What htmx swaps in; without it htmx gets the full page too. */
  partial?: () => Child;
  /** Errors are pages too: 402 (out of credits), 502 (the payment provider is down), … */
  status?: ContentfulStatusCode;
  /** The nav link to mark as current. */
  current?: string;
  /** Pages that show a secret once are kept out of htmx's history cache. */
  noHistory?: boolean;
}

export function render(c: Context<AppEnv>, config: Config, parts: PageParts) {
  c.header('Vary', 'HX-Request');
  const status = parts.status ?? 200;
  if (parts.partial && wantsPartial(c)) return c.html(<>{parts.partial()}</>, status);
  return c.html(
    <Layout title={parts.title} demo={isDemo(config)} signupOpen={config.signup === 'open'} userEmail={c.get('user')?.email ?? null} admin={isAdmin(c.get('user'), config)} current={parts.current} noHistory={parts.noHistory}>
      {parts.page()}
    </Layout>,
    status,
  );
}

/** 303 for a plain form; under htmx a full-page navigation through HX-Redirect. */
export function redirectTo(c: Context<AppEnv>, url: string) {
  if (c.req.header('HX-Request') === 'true') {
    c.header('HX-Redirect', url);
    return c.body(null, 200);
  }
  return c.redirect(url, 303);
}
