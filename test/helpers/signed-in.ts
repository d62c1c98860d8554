// A browser signed in as a new user (through the real sign-up form, which starts a session), and
// suites whose every test starts with one in a fresh app, closed after the test.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSession, generateSessionToken } from '../../src/auth/sessions.ts';
import type { Config } from '../../src/config.ts';
import type { Clock } from '../../src/clock.ts';
import type { User } from '../../src/db/schema.ts';
import { findUserByEmail } from '../../src/users/users.ts';
import { sessionCookieName } from '../../src/web/session-cookie.ts';
import { testApp, type Browser, type TestApp } from './app.ts';
import type { TestDb } from './db.ts';

export interface SignedIn {
  browser: Browser;
  user: User;
}

/** POST /signup as `email` from a new browser, which is then signed in. */
export async function signedIn(t: TestApp, email: string): Promise<SignedIn> {
  const browser = t.browser();
  const answer = await browser.signUp(email);
  assert.is(answer.status, 303, `sign-up of ${email}`);
  const user = await findUserByEmail(t.db, email);
  assert.ok(user, `the user ${email}`);
  return { browser, user: user! };
}

/** A session made directly for `userId`, as its Cookie header: for a server under test whose users were made without the form. */
export async function sessionCookie(t: Pick<TestDb, 'db'> & { clock: Clock; config: Config }, userId: number): Promise<string> {
  const token = generateSessionToken();
  await createSession(t.db, t.clock, token, userId);
  return `${sessionCookieName(t.config)}=${token}`;
}

export interface SignedInContext {
  t: TestApp;
  browser: Browser;
  userId: number;
}

export interface SignedInSuiteOptions {
  /** The app's environment (testApp's). */
  env?: Record<string, string>;
  /** Checks after each test (the books, the log), before the app is closed. */
  afterEach?: (context: SignedInContext) => unknown;
}

/** A suite whose every test gets a fresh app and a browser signed in as `email`. */
export function signedInSuite(name: string, email: string, options: SignedInSuiteOptions = {}) {
  const tests = suite<SignedInContext>(name);
  tests.before.each(async (context) => {
    context.t = await testApp(options.env);
    const { browser, user } = await signedIn(context.t, email);
    context.browser = browser;
    context.userId = user.id;
  });
  tests.after.each(async (context) => {
    try {
      await options.afterEach?.(context);
    } finally {
      await context.t.close();
    }
  });
  return tests;
}
