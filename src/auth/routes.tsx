// Sign-up, sign-in, sign-out, password reset and the account page: parse, call the domain, render.
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono, type Context } from 'hono';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { DB } from '../db/connect.ts';
import type { AppEnv } from '../web/env.ts';
import { clientIp } from '../web/client-ip.ts';
import { formFields } from '../web/form-data.ts';
import { render, redirectTo, wantsPartial } from '../web/render.tsx';
import { clearSessionCookie, writeSessionCookie } from '../web/session-cookie.ts';
import { requireUser } from '../web/auth-middleware.ts';
import { LoginForm, ResetForm, ResetRequestForm, SignupForm } from '../../views/auth/forms.tsx';
import { AccountPage, EmailForm, PasswordForm } from '../../views/account.tsx';
import { changeEmail, changePassword, logIn, signUp, type AccountDeps, type Failure } from './accounts.ts';
import type { Hasher } from './hasher.ts';
import { isResetTokenUsable, requestPasswordReset, resetPassword } from './password-reset.ts';
import { createSession, generateSessionToken, invalidateSession, invalidateUserSessions } from './sessions.ts';

/**
 * POST /reset answers no sooner than this after it arrived, so its timing can't tell whether an
 * email has an account (the work on both paths is the same, one write transaction, far below this).
 */
const RESET_ANSWER_FLOOR_MS = 200;

/** 422 for a mistake in the form; 429 with Retry-After when the person was limited. */
function failureStatus(c: Context<AppEnv>, failure: Failure): 422 | 429 {
  if (failure.retryAfterSeconds === undefined) return 422;
  c.header('Retry-After', String(failure.retryAfterSeconds));
  return 429;
}

/**
 * What these routes use of the app's context (src/context.ts), declared here rather than imported:
 * the context holds auth's hasher, so importing it would make the two parts import each other.
 */
export interface AuthRouteContext {
  config: Config;
  db: DB;
  clock: Clock;
  hasher: Hasher;
}

export function authRoutes(ctx: AuthRouteContext) {
  const { config } = ctx;
  const deps: AccountDeps = { db: ctx.db, clock: ctx.clock, hasher: ctx.hasher, adminEmails: config.adminEmails, publicUrl: config.publicUrl };
  const app = new Hono<AppEnv>();
  const signupOpen = config.signup === 'open';
  const ipOf = (c: Context<AppEnv>) => clientIp(c, config.trustProxyHops);

  async function startSession(c: Context<AppEnv>, userId: number) {
    const token = generateSessionToken();
    const session = await createSession(deps.db, deps.clock, token, userId);
    writeSessionCookie(c, config, token, session.expires_at_ms);
  }

  const centered = (title: string, body: () => unknown) => () => (
    <section class="narrow">
      <h1>{title}</h1>
      {body()}
    </section>
  );

  app.get('/login', (c) => {
    if (c.get('user')) return c.redirect('/credits', 303);
    const notice = c.req.query('signed_out') === 'everywhere' ? 'You were signed out everywhere.' : undefined;
    return render(c, config, { title: 'Sign in', page: centered('Sign in', () => <LoginForm signupOpen={signupOpen} notice={notice} />) });
  });

  app.post('/login', async (c) => {
    const field = await formFields(c);
    const email = field('email');
    const result = await logIn(deps, email, field('password'), ipOf(c));
    if (!result.ok) {
      const form = () => <LoginForm signupOpen={signupOpen} email={email} errors={result.errors} />;
      return render(c, config, { title: 'Sign in', status: failureStatus(c, result), page: centered('Sign in', form), partial: form });
    }
    await startSession(c, result.value.id);
    return redirectTo(c, '/credits');
  });

  app.get('/signup', (c) => {
    if (!signupOpen) return c.notFound();
    if (c.get('user')) return c.redirect('/credits', 303);
    return render(c, config, { title: 'Create account', page: centered('Create your account', () => <SignupForm />) });
  });

  app.post('/signup', async (c) => {
    if (!signupOpen) return c.notFound();
    const field = await formFields(c);
    const email = field('email');
    const result = await signUp(deps, email, field('password'), ipOf(c));
    if (!result.ok) {
      const form = () => <SignupForm email={email} errors={result.errors} />;
      return render(c, config, { title: 'Create account', status: failureStatus(c, result), page: centered('Create your account', form), partial: form });
    }
    await startSession(c, result.value.id);
    return redirectTo(c, '/credits');
  });

  app.post('/logout', async (c) => {
    const session = c.get('session');
    if (session) await invalidateSession(deps.db, session.id);
    clearSessionCookie(c, config);
    return redirectTo(c, '/login');
  });

  // `?sent=1`: where a plain form's request goes on (303), so a refresh asks for no second link.
  app.get('/reset', (c) => render(c, config, { title: 'Reset password', page: centered('Reset your password', () => <ResetRequestForm sent={c.req.query('sent') === '1'} />) }));

  app.post('/reset', async (c) => {
    const answerAtMs = performance.now() + RESET_ANSWER_FLOOR_MS;
    const field = await formFields(c);
    const email = field('email');
    const result = await requestPasswordReset(deps, email, ipOf(c));
    await sleep(Math.max(0, answerAtMs - performance.now()));
    // The same answer whether or not the email has an account; a plain form goes on by 303.
    if (result.ok && !wantsPartial(c)) return c.redirect('/reset?sent=1', 303);
    const form = () => (result.ok ? <ResetRequestForm sent /> : <ResetRequestForm email={email} errors={result.errors} />);
    return render(c, config, { title: 'Reset password', status: result.ok ? 200 : failureStatus(c, result), page: centered('Reset your password', form), partial: form });
  });

  app.get('/reset/:token', async (c) => {
    const token = c.req.param('token');
    const usable = await isResetTokenUsable(deps, token);
    return render(c, config, {
      title: 'Choose a new password',
      status: usable ? 200 : 404,
      noHistory: true,
      page: centered('Choose a new password', () =>
        usable ? (
          <ResetForm token={token} />
        ) : (
          <p>
            This reset link has expired or was already used. <a href="/reset">Ask for a new one.</a>
          </p>
        ),
      ),
    });
  });

  app.post('/reset/:token', async (c) => {
    const token = c.req.param('token');
    const field = await formFields(c);
    const result = await resetPassword(deps, token, field('password'), ipOf(c));
    if (!result.ok) {
      const form = () => <ResetForm token={token} errors={result.errors} />;
      return render(c, config, { title: 'Choose a new password', status: failureStatus(c, result), noHistory: true, page: centered('Choose a new password', form), partial: form });
    }
    await startSession(c, result.value.id);
    return redirectTo(c, '/credits');
  });

  app.use('/account', requireUser);
  app.use('/account/*', requireUser);

  app.get('/account', (c) => {
    const changed = c.req.query('changed');
    const notice =
      changed === 'password' ? 'Your password was changed; other devices were signed out.' : changed === 'email' ? `Your email is now ${c.get('user')!.email}.` : undefined;
    return render(c, config, { title: 'Account', current: '/account', page: () => <AccountPage user={c.get('user')!} notice={notice} /> });
  });

  app.post('/account/email', async (c) => {
    const user = c.get('user')!;
    const field = await formFields(c);
    const newEmail = field('new_email');
    const result = await changeEmail(deps, user, field('current_password'), newEmail, ipOf(c));
    if (!result.ok) {
      return render(c, config, {
        title: 'Account',
        status: failureStatus(c, result),
        current: '/account',
        page: () => <AccountPage user={user} emailValue={newEmail} emailErrors={result.errors} />,
        partial: () => <EmailForm email={newEmail} errors={result.errors} />,
      });
    }
    const changed = { ...user, email: newEmail.trim() };
    // A plain form goes on by 303 (a refresh posts nothing again); the page then reads the new address.
    if (!wantsPartial(c)) return c.redirect('/account?changed=email', 303);
    return render(c, config, {
      title: 'Account',
      current: '/account',
      page: () => <AccountPage user={changed} notice={`Your email is now ${changed.email}.`} />,
      partial: () => <EmailForm email={changed.email} saved />,
    });
  });

  app.post('/account/password', async (c) => {
    const user = c.get('user')!;
    const field = await formFields(c);
    const result = await changePassword(deps, user, field('current_password'), field('new_password'), ipOf(c));
    if (!result.ok) {
      return render(c, config, {
        title: 'Account',
        status: failureStatus(c, result),
        current: '/account',
        page: () => <AccountPage user={user} passwordErrors={result.errors} />,
        partial: () => <PasswordForm errors={result.errors} />,
      });
    }
    // Every session was signed out; this browser gets a fresh one so the person stays signed in here.
    await startSession(c, user.id);
    return redirectTo(c, '/account?changed=password');
  });

  app.post('/account/sign-out-everywhere', async (c) => {
    await invalidateUserSessions(deps.db, c.get('user')!.id);
    clearSessionCookie(c, config);
    return redirectTo(c, '/login?signed_out=everywhere');
  });

  return app;
}
