// Configuration: defaults, one-line errors naming the variable, and the PAYMENTS rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, isDemo, loadConfig } from '../src/config.ts';

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

test('image fetching: 5 s and public addresses only by default; the private-address option only as 0 or 1', () => {
  const config = loadConfig({});
  assert.is(config.imageFetchTimeoutSeconds, 5);
  assert.is(config.imageFetchAllowPrivate, false);
  assert.is(loadConfig({ IMAGE_FETCH_ALLOW_PRIVATE: '1', IMAGE_FETCH_TIMEOUT_SECONDS: '60' }).imageFetchAllowPrivate, true);
  assert.is(loadConfig({ IMAGE_FETCH_ALLOW_PRIVATE: '0' }).imageFetchAllowPrivate, false);
  fails({ IMAGE_FETCH_ALLOW_PRIVATE: 'yes' }, /^IMAGE_FETCH_ALLOW_PRIVATE must be "0" or "1", got "yes"$/);
  fails({ IMAGE_FETCH_TIMEOUT_SECONDS: '0' }, /^IMAGE_FETCH_TIMEOUT_SECONDS must be a whole number from 1 to 60, got "0"$/);
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
    preparedStatements: true,
  });
  const tuned = loadConfig({
    DATABASE_URL: 'postgresql://localhost/tokentab',
    DATABASE_POOL_SIZE: '40',
    DATABASE_STATEMENT_TIMEOUT_MS: '0',
    DATABASE_CONNECT_TIMEOUT_MS: '2500',
    DATABASE_PREPARED_STATEMENTS: 'off',
    SQLITE_SYNCHRONOUS: 'normal',
  }).database;
  assert.equal(tuned, { backend: 'postgres', url: 'postgresql://localhost/tokentab', poolSize: 40, statementTimeoutMs: 0, connectTimeoutMs: 2500, preparedStatements: false });
  assert.equal(loadConfig({ DATABASE_URL: 'sqlite:x.db', SQLITE_SYNCHRONOUS: 'normal' }).database, { backend: 'sqlite', path: 'x.db', synchronous: 'normal' });
  fails({ DATABASE_URL: 'postgres://localhost/t', DATABASE_POOL_SIZE: '0' }, /^DATABASE_POOL_SIZE must be a whole number from 1 to 1000, got "0"$/);
  fails({ DATABASE_URL: 'postgres://localhost/t', DATABASE_STATEMENT_TIMEOUT_MS: '-5' }, /^DATABASE_STATEMENT_TIMEOUT_MS must be a whole number/);
  fails({ DATABASE_URL: 'postgres://localhost/t', DATABASE_CONNECT_TIMEOUT_MS: 'soon' }, /^DATABASE_CONNECT_TIMEOUT_MS must be a whole number/);
  fails({ DATABASE_URL: 'postgres://localhost/t', DATABASE_PREPARED_STATEMENTS: 'yes' }, /^DATABASE_PREPARED_STATEMENTS must be "on" or "off", got "yes"$/);
  fails({ DATABASE_URL: 'postgres://user:s3cret@[bad/t' }, /^DATABASE_URL is not a valid postgres:\/\/ URL$/);
  try {
    loadConfig({ DATABASE_URL: 'postgres://user:s3cret@[bad/t' });
  } catch (error) {
    assert.not.match((error as Error).message, /s3cret/, 'the password is never printed');
  }
  fails({ DATABASE_URL: 'sqlite:' }, /^DATABASE_URL must be sqlite:PATH or postgres:\/\/…/);
});

const upstreamsDir = mkdtempSync(join(tmpdir(), 'tokentab-config-'));
let files = 0;
/** An UPSTREAMS_FILE holding `content` (JSON-encoded unless text), and the environment naming it. */
function upstreamsEnv(content: unknown, env: Record<string, string> = {}): Record<string, string> {
  const file = join(upstreamsDir, `upstreams-${++files}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return { UPSTREAMS_FILE: file, PAYMENTS: 'off', ...env };
}
const AZURE = { name: 'azure', base_url: 'https://example-resource.openai.azure.com/openai/v1/', api_key_env: 'AZURE_OPENAI_API_KEY', models: { 'gpt-4o-mini': 'mini-deployment' } };
const OLLAMA = { name: 'ollama', base_url: 'http://127.0.0.1:11434/v1', models: { 'gpt-4o-mini': 'llama3.1:8b' } };

test('without UPSTREAMS_FILE: one upstream named default, from OPENAI_* (the demo model without a key)', () => {
  const demo = loadConfig({}).upstreams;
  assert.equal(demo.upstreams.map((u) => [u.name, u.baseUrl, u.apiKey, u.models]), [['default', null, null, null]]);
  assert.ok(isDemo(loadConfig({ PAYMENTS: 'off' })));
  const real = loadConfig({ OPENAI_API_KEY: 'sk-real', OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1/', PAYMENTS: 'off' }).upstreams;
  assert.equal(real.upstreams.map((u) => [u.name, u.baseUrl, u.apiKey, u.models]), [['default', 'http://127.0.0.1:8000/v1', 'sk-real', null]]);
  assert.equal(loadConfig({ OPENAI_API_KEY: 'sk-real', PAYMENTS: 'off' }).upstreams.upstreams[0]!.baseUrl, 'https://api.openai.com/v1');
});

test('UPSTREAMS_FILE: keys read from the variables it names, headers, mapped model names, routes in order (the file’s order where none is given)', () => {
  const config = loadConfig(
    upstreamsEnv(
      {
        upstreams: [AZURE, { ...OLLAMA, headers: { 'x-team': 'search' }, models: ['text-embedding-3-small', 'gpt-4o-mini'] }],
        routes: { 'gpt-4o-mini': ['ollama', 'azure'] },
      },
      { AZURE_OPENAI_API_KEY: 'azure-secret-key' },
    ),
  );
  const [azure, ollama] = config.upstreams.upstreams;
  assert.equal([azure!.baseUrl, azure!.apiKey, azure!.models, azure!.headersTimeoutMs], ['https://example-resource.openai.azure.com/openai/v1', 'azure-secret-key', { 'gpt-4o-mini': 'mini-deployment' }, null]);
  assert.equal([ollama!.apiKey, ollama!.headers, ollama!.models], [null, { 'x-team': 'search' }, { 'text-embedding-3-small': 'text-embedding-3-small', 'gpt-4o-mini': 'gpt-4o-mini' }]);
  assert.equal(config.upstreams.routes, { 'gpt-4o-mini': ['ollama', 'azure'], 'text-embedding-3-small': ['ollama'] });
  assert.is(isDemo(config), false);
  // A real upstream without Stripe needs PAYMENTS chosen, as OPENAI_API_KEY does.
  fails({ ...upstreamsEnv({ upstreams: [OLLAMA] }), PAYMENTS: '' }, /^PAYMENTS must be set explicitly \("demo" or "off"\) when UPSTREAMS_FILE is set/);
});

test('a bad UPSTREAMS_FILE stops the start with one line naming the file and the entry, never a key', () => {
  const env = { AZURE_OPENAI_API_KEY: 'azure-secret-key' };
  const cases: [unknown, RegExp][] = [
    ['{ "upstreams": [', /: not valid JSON \(/],
    [[], /: the file must hold a JSON object with "upstreams"/],
    [{ upstreams: [] }, /: upstreams must list 1 to 64 upstreams$/],
    [{ upstreams: [AZURE], extra: 1 }, /: the file: unknown field "extra"/],
    [{ upstreams: [{ ...AZURE, name: 'no spaces' }] }, /: upstreams\[0\]: name must be 1 to 40 letters/],
    [{ upstreams: [{ ...AZURE, base_url: 'ftp://example.com' }] }, /: upstreams\[0\] \("azure"\): base_url must be an http\(s\) URL, got "ftp:\/\/example.com"$/],
    [{ upstreams: [{ ...AZURE, base_url: 'https://user:pw@example.com/v1' }] }, /upstreams\[0\] \("azure"\): base_url must not hold credentials/],
    [{ upstreams: [{ ...AZURE, api_key_env: 'MISSING_KEY_VARIABLE' }] }, /upstreams\[0\] \("azure"\): api_key_env names MISSING_KEY_VARIABLE, which is not set$/],
    [{ upstreams: [{ ...AZURE, api_key: 'sk-inline' }] }, /upstreams\[0\] \("azure"\): unknown field "api_key" \(allowed: name, base_url, api_key_env/],
    [{ upstreams: [{ ...AZURE, models: {} }] }, /upstreams\[0\] \("azure"\): models is empty/],
    [{ upstreams: [{ ...AZURE, headers: { Authorization: 'Bearer x' } }] }, /upstreams\[0\] \("azure"\): headers: Authorization is set by tokentab/],
    [{ upstreams: [{ ...AZURE, headers: { 'x-a': 'one\r\nx-b: two' } }] }, /upstreams\[0\] \("azure"\): headers.x-a must be text of printable ASCII/],
    [{ upstreams: [{ ...AZURE, headers_timeout_seconds: 301 }] }, /upstreams\[0\] \("azure"\): headers_timeout_seconds must be a whole number from 1 to UPSTREAM_TIMEOUT_SECONDS \(300\)/],
    [{ upstreams: [AZURE, AZURE] }, /upstreams\[1\]: the name "azure" is used twice$/],
    [{ upstreams: [AZURE], routes: { 'gpt-4o-mini': ['azure', 'nowhere'] } }, /routes\.gpt-4o-mini\[1\]: no upstream is named "nowhere"$/],
    [{ upstreams: [AZURE, OLLAMA], routes: { 'gpt-4o': ['azure'] } }, /routes\.gpt-4o\[0\]: upstream "azure" does not serve gpt-4o \(add it to its models\)$/],
    [{ upstreams: [AZURE], routes: { 'gpt-4o-mini': [] } }, /routes\.gpt-4o-mini must list 1 to 8 upstream names/],
    [{ upstreams: [AZURE], routes: { 'gpt-4o-mini': ['azure', 'azure'] } }, /routes\.gpt-4o-mini\[1\]: "azure" is listed twice$/],
  ];
  for (const [content, message] of cases) {
    const problem = upstreamsEnv(content, env);
    const file = problem.UPSTREAMS_FILE!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    fails(problem, new RegExp(`^UPSTREAMS_FILE ${file}: ${message.source.replace(/^: /, '')}`));
    try {
      loadConfig(problem);
    } catch (error) {
      assert.not.match((error as Error).message, /azure-secret-key/, 'the key is never printed');
    }
  }
  fails({ UPSTREAMS_FILE: join(upstreamsDir, 'absent.json'), PAYMENTS: 'off' }, /^UPSTREAMS_FILE .*absent\.json cannot be read: ENOENT$/);
  fails({ ...upstreamsEnv({ upstreams: [OLLAMA] }), OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }, /^OPENAI_BASE_URL cannot be used with UPSTREAMS_FILE/);
  fails(upstreamsEnv(' '.repeat(1024 * 1024 + 1)), /the file is larger than 1048576 bytes$/);
});

test.run();
