// Configuration: defaults, one-line errors naming the variable, and the PAYMENTS rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig } from '../src/config.ts';

function fails(env: Record<string, string>, message: RegExp) {
  try {
    loadConfig(env);
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.match((error as Error).message, message);
    assert.not.match((error as Error).message, /\n/, 'one line');
    return;
  }
  assert.unreachable(`expected ${JSON.stringify(env)} to be refused`);
}

test('defaults: demo payments, exact rounding, FULL sync, the local database', () => {
  const config = loadConfig({});
  assert.is(config.port, 3000);
  assert.is(config.host, '127.0.0.1');
  assert.is(config.publicUrl, 'http://localhost:3000');
  assert.is(config.publicUrlExplicit, false);
  assert.equal(config.database, { backend: 'sqlite', path: 'data/tokentab.db', synchronous: 'full' });
  assert.is(config.roundingMode, 'exact');
  assert.is(config.payments, 'demo');
  assert.is(config.holdTtlSeconds, 600);
  assert.is(config.upstreamTimeoutSeconds, 300);
  assert.ok(Object.isFrozen(config));
});

test('bad values stop the start with one line naming the variable and what is allowed', () => {
  fails({ ROUNDING_MODE: 'round' }, /^ROUNDING_MODE must be "exact" or "ceil", got "round"$/);
  fails({ SQLITE_SYNCHRONOUS: 'off' }, /^SQLITE_SYNCHRONOUS must be "full" or "normal"/);
  fails({ PORT: 'http' }, /^PORT must be a whole number/);
  fails({ PUBLIC_URL: 'localhost:3000' }, /^PUBLIC_URL must be an http\(s\) URL/);
  fails({ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must be sqlite:PATH/);
  fails({ UPSTREAM_TIMEOUT_SECONDS: '550' }, /^UPSTREAM_TIMEOUT_SECONDS must be below HOLD_TTL_SECONDS - 60/);
  fails({ PAYMENTS: 'free' }, /^PAYMENTS must be "stripe", "demo", "off"/);
  fails({ SIGNUP: 'maybe' }, /^SIGNUP must be/);
  fails({ SMTP_URL: 'mail.example.com' }, /^SMTP_URL/);
  fails({ TRUST_PROXY: '-1' }, /^TRUST_PROXY/);
});

test('keep-alive and in-flight limits: defaults, bounds, one-line refusals', () => {
  const config = loadConfig({});
  assert.is(config.keepAliveTimeoutSeconds, 65, 'above the 60 s idle timeout of nginx and common load balancers');
  assert.is(config.maxInFlightPerUser, 32);
  assert.is(loadConfig({ KEEP_ALIVE_TIMEOUT_SECONDS: '290', MAX_IN_FLIGHT_PER_USER: '1' }).keepAliveTimeoutSeconds, 290);
  assert.is(loadConfig({ MAX_IN_FLIGHT_PER_USER: '200' }).maxInFlightPerUser, 200);
  fails({ KEEP_ALIVE_TIMEOUT_SECONDS: '0' }, /^KEEP_ALIVE_TIMEOUT_SECONDS must be a whole number from 1 to 290, got "0"$/);
  fails({ KEEP_ALIVE_TIMEOUT_SECONDS: '291' }, /^KEEP_ALIVE_TIMEOUT_SECONDS must be a whole number from 1 to 290/);
  fails({ KEEP_ALIVE_TIMEOUT_SECONDS: '65s' }, /^KEEP_ALIVE_TIMEOUT_SECONDS must be a whole number/);
  fails({ MAX_IN_FLIGHT_PER_USER: '0' }, /^MAX_IN_FLIGHT_PER_USER must be a whole number from 1 to 10000, got "0"$/);
  fails({ MAX_IN_FLIGHT_PER_USER: 'many' }, /^MAX_IN_FLIGHT_PER_USER must be a whole number/);
});

test('several processes: the lease term (well below the least HOLD_TTL_SECONDS) and the singleton jobs\' intervals, defaults and bounds', () => {
  const defaults = loadConfig({});
  assert.equal([defaults.processLeaseSeconds, defaults.sweepEverySeconds, defaults.reconcileEverySeconds], [5, 30, 600]);
  assert.equal(loadConfig({ PROCESS_LEASE_SECONDS: '2', SWEEP_EVERY_SECONDS: '1', RECONCILE_EVERY_SECONDS: '86400' }).processLeaseSeconds, 2);
  fails({ PROCESS_LEASE_SECONDS: '1' }, /^PROCESS_LEASE_SECONDS must be a whole number from 2 to 60, got "1"$/);
  fails({ PROCESS_LEASE_SECONDS: '61' }, /^PROCESS_LEASE_SECONDS must be a whole number from 2 to 60/);
  fails({ SWEEP_EVERY_SECONDS: '0' }, /^SWEEP_EVERY_SECONDS must be a whole number from 1 to 3600/);
  fails({ RECONCILE_EVERY_SECONDS: '1e3' }, /^RECONCILE_EVERY_SECONDS must be a whole number from 1 to 86400/);
});

test('a real OpenAI key with no Stripe key needs PAYMENTS chosen explicitly', () => {
  fails({ OPENAI_API_KEY: 'sk-real' }, /^PAYMENTS must be set explicitly/);
  assert.is(loadConfig({ OPENAI_API_KEY: 'sk-real', PAYMENTS: 'off' }).payments, 'off');
  assert.is(loadConfig({ OPENAI_API_KEY: 'sk-real', PAYMENTS: 'demo' }).payments, 'demo');
  assert.is(loadConfig({ OPENAI_API_KEY: 'sk-real', STRIPE_SECRET_KEY: 'sk_test_1' }).payments, 'stripe');
  fails({ PAYMENTS: 'stripe' }, /needs STRIPE_SECRET_KEY/);
});

test('the secret values are never part of an error message', () => {
  try {
    loadConfig({ OPENAI_API_KEY: 'sk-very-secret' });
  } catch (error) {
    assert.not.match((error as Error).message, /sk-very-secret/);
  }
});

test('PUBLIC_URL, database path and admins', () => {
  const config = loadConfig({ PUBLIC_URL: 'https://credits.example.com/', DATABASE_URL: 'sqlite:/var/lib/tokentab.db', ADMIN_EMAILS: 'A@x.com, b@y.org', PORT: '8080' });
  assert.is(config.publicUrl, 'https://credits.example.com');
  assert.is(config.publicUrlExplicit, true);
  assert.equal(config.database, { backend: 'sqlite', path: '/var/lib/tokentab.db', synchronous: 'full' });
  assert.equal(config.adminEmails, ['a@x.com', 'b@y.org']);
  assert.is(config.port, 8080);
});

test('DATABASE_URL: postgres:// and postgresql:// with the pool settings, never echoing the URL', () => {
  const url = 'postgres://tokentab:s3cret@db.internal:5432/tokentab?sslmode=require';
  assert.equal(loadConfig({ DATABASE_URL: url }).database, {
    backend: 'postgres',
    url,
    poolSize: 10,
    statementTimeoutMs: 30_000,
    connectTimeoutMs: 10_000,
  });
  const tuned = loadConfig({
    DATABASE_URL: 'postgresql://localhost/tokentab',
    DATABASE_POOL_SIZE: '40',
    DATABASE_STATEMENT_TIMEOUT_MS: '0',
    DATABASE_CONNECT_TIMEOUT_MS: '2500',
    SQLITE_SYNCHRONOUS: 'normal',
  }).database;
  assert.equal(tuned, { backend: 'postgres', url: 'postgresql://localhost/tokentab', poolSize: 40, statementTimeoutMs: 0, connectTimeoutMs: 2500 });
  assert.equal(loadConfig({ DATABASE_URL: 'sqlite:x.db', SQLITE_SYNCHRONOUS: 'normal' }).database, { backend: 'sqlite', path: 'x.db', synchronous: 'normal' });
  fails({ DATABASE_URL: 'postgres://localhost/t', DATABASE_POOL_SIZE: '0' }, /^DATABASE_POOL_SIZE must be a whole number from 1 to 1000, got "0"$/);
  fails({ DATABASE_URL: 'postgres://localhost/t', DATABASE_STATEMENT_TIMEOUT_MS: '-5' }, /^DATABASE_STATEMENT_TIMEOUT_MS must be a whole number/);
  fails({ DATABASE_URL: 'postgres://localhost/t', DATABASE_CONNECT_TIMEOUT_MS: 'soon' }, /^DATABASE_CONNECT_TIMEOUT_MS must be a whole number/);
  fails({ DATABASE_URL: 'postgres://user:s3cret@[bad/t' }, /^DATABASE_URL is not a valid postgres:\/\/ URL$/);
  try {
    loadConfig({ DATABASE_URL: 'postgres://user:s3cret@[bad/t' });
  } catch (error) {
    assert.not.match((error as Error).message, /s3cret/, 'the password is never printed');
  }
  fails({ DATABASE_URL: 'sqlite:' }, /^DATABASE_URL must be sqlite:PATH or postgres:\/\/…/);
});

test.run();
