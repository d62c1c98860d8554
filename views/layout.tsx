// The shared page frame: header with navigation, the demo-mode banner, and the main column.
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';

export interface LayoutProps {
  title: string;
  demo: boolean;
  /** The signed-in user's email, or null on public pages. */
  userEmail?: string | null;
  current?: string;
  /** Pages that show a secret once: htmx must not keep them in its history cache. */
  noHistory?: boolean;
  signupOpen?: boolean;
  /** The signed-in user is an admin: the nav links the console. */
  admin?: boolean;
  children?: Child;
}

const NAV = [
  { href: '/credits', label: 'Credits' },
  { href: '/playground', label: 'Playground' },
  { href: '/keys', label: 'API keys' },
  { href: '/settings/billing', label: 'Billing' },
  { href: '/account', label: 'Account' },
];

export function Layout(props: LayoutProps) {
  return (
    <>
    {raw('<!DOCTYPE html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content='{"allowEval":false,"includeIndicatorStyles":false,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"400","swap":true},{"code":"422","swap":true},{"code":"429","swap":true},{"code":"402","swap":true},{"code":"413","swap":true},{"code":"[45]..","swap":false,"error":true}]}' />
        <title>{`${props.title} · tokentab`}</title>
        <link rel="stylesheet" href="/static/style.css" />
        <link rel="icon" href="data:," />
        <script src="/static/htmx-2.0.11.min.js" defer></script>
        <script src="/static/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href={props.userEmail ? '/credits' : '/'}>tokentab</a>
          {props.userEmail ? (
            <>
              <nav aria-label="Main">
                {[...NAV, ...(props.admin ? [{ href: '/admin', label: 'Admin' }] : [])].map((item) => (
                  <a href={item.href} aria-current={props.current === item.href ? 'page' : undefined}>
                    {item.label}
                  </a>
                ))}
              </nav>
              <form class="signout" method="post" action="/logout">
                <span class="muted signed-in-as">{props.userEmail}</span> <button type="submit" class="link">Sign out</button>
              </form>
            </>
          ) : (
            <nav aria-label="Account">
              <a href="/login">Sign in</a>
              {props.signupOpen === false ? null : <a href="/signup">Create account</a>}
            </nav>
          )}
        </header>
        {props.demo ? (
          <p class="banner banner-demo" role="note">
            {/* One line on a phone, so the page's own content starts above the fold. */}
            <span class="banner-long">Demo mode: purchases use a local checkout page (no card is charged) and models are answered by a built-in demo model.</span>
            <span class="banner-short">Demo mode: no real payments or models.</span>
          </p>
        ) : null}
        <main id="main" hx-history={props.noHistory ? 'false' : undefined}>
          {props.children}
        </main>
      </body>
    </html>
    </>
  );
}
