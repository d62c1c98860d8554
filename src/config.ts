// Reads process.env once, validates every variable, and returns a frozen Config (the README's Configure table).
import { readFileSync, statSync } from 'node:fs';
import { MAX_UPSTREAMS_FILE_BYTES, onlyDemoUpstreams, parseUpstreamsFile, singleUpstream, UpstreamsFileError, type UpstreamsConfig } from './upstreams-file.ts';

export type RoundingMode = 'exact' | 'ceil';
export type SqliteSynchronous = 'full' | 'normal';
export type PaymentsMode = 'stripe' | 'demo' | 'off';

/** Where the data lives: a SQLite file (the zero-setup default) or a PostgreSQL server (docs/architecture.md, Two backends). */
export type DatabaseConfig = SqliteConfig | PostgresConfig;

export interface SqliteConfig {
  readonly backend: 'sqlite';
  /** Relative to the working directory, or absolute. */
  readonly path: string;
  readonly synchronous: SqliteSynchronous;
}

export interface PostgresConfig {
  readonly backend: 'postgres';
  /** postgres://… or postgresql://…, as pg reads it; may hold a password, so never printed. */
  readonly url: string;
  /** Connections this process keeps open at most. */
  readonly poolSize: number;
  /** A statement running longer is cancelled by the server; 0 = no limit. */
  readonly statementTimeoutMs: number;
  /** How long to wait for a connection (a new one, or a free one from a full pool). */
  readonly connectTimeoutMs: number;
  /**
   * The hot path's fixed statements run as named prepared statements, planned once per connection
   * (src/db/postgres.ts); off for a pooler that cannot keep them (PgBouncer before 1.21).
   */
  readonly preparedStatements: boolean;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** The external origin, without a trailing slash. */
  readonly publicUrl: string;
  /** True when PUBLIC_URL was set explicitly; otherwise localhost and 127.0.0.1 are both accepted origins. */
  readonly publicUrlExplicit: boolean;
  readonly trustProxyHops: number;
  readonly database: DatabaseConfig;
  readonly roundingMode: RoundingMode;
  /** The upstreams calls go to: UPSTREAMS_FILE's, or the one of OPENAI_API_KEY / OPENAI_BASE_URL (the demo model without a key). */
  readonly upstreams: UpstreamsConfig;
  readonly upstreamTimeoutSeconds: number;
  readonly holdTtlSeconds: number;
  /** How long an idle keep-alive connection is kept open (src/web/server-options.ts). */
  readonly keepAliveTimeoutSeconds: number;
  /** Calls one user may have in flight at once, over all their keys and the playground. */
  readonly maxInFlightPerUser: number;
  /** IMAGE_FETCH_TIMEOUT_SECONDS: how long one image URL may take until its size is read. */
  readonly imageFetchTimeoutSeconds: number;
  /** IMAGE_FETCH_ALLOW_PRIVATE=1: image URLs may point at private and loopback addresses (tests, a LAN's own image server). */
  readonly imageFetchAllowPrivate: boolean;
  /** A process that has not renewed its lease this long is taken for dead and its holds given back. */
  readonly processLeaseSeconds: number;
  /** How often the hold sweeper runs (in one process at a time). */
  readonly sweepEverySeconds: number;
  /** How often reconcile runs (in one process at a time). */
  readonly reconcileEverySeconds: number;
  readonly payments: PaymentsMode;
  readonly stripeSecretKey: string | null;
  readonly stripeWebhookSecret: string | null;
  readonly stripeApiBase: string | null;
  readonly smtpUrl: string | null;
  readonly mailFrom: string;
  readonly signup: 'open' | 'closed';
  readonly adminEmails: readonly string[];
  /** The Bearer token GET /metrics asks for; null: /metrics is not served on the app's port (404). */
  readonly metricsToken: string | null;
  /** A second listen address serving /metrics only (e.g. 127.0.0.1:9464); null: none. */
  readonly metricsListen: { host: string; port: number } | null;
}

/** A configuration value that stops the start; the message is one line naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value.trim() === '' ? null : value.trim();
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = text(env, name);
  if (value === null) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const choices = allowed.map((a) => `"${a}"`).join(allowed.length === 2 ? ' or ' : ', ');
  throw new ConfigError(`${name} must be ${choices}, got "${value}"`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name);
  if (value === null) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

function httpUrl(env: Env, name: string): string | null {
  const value = text(env, name);
  if (value === null) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http(s) URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

/** DATABASE_URL and the settings of its backend; also what tests and tools use to open a URL. */
export function loadDatabaseConfig(env: Env = process.env): DatabaseConfig {
  const value = text(env, 'DATABASE_URL') ?? 'sqlite:data/tokentab.db';
  if (/^postgres(ql)?:\/\//.test(value)) {
    // The URL may carry a password: an error names the variable, never the value.
    try {
      new URL(value);
    } catch {
      throw new ConfigError('DATABASE_URL is not a valid postgres:// URL');
    }
    return Object.freeze({
      backend: 'postgres',
      url: value,
      poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
      statementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000),
      connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 10_000, 1, 600_000),
      preparedStatements: oneOf(env, 'DATABASE_PREPARED_STATEMENTS', ['on', 'off'], 'on') === 'on',
    });
  }
  const match = /^sqlite:(.+)$/.exec(value);
  if (!match || match[1]!.trim() === '') {
    throw new ConfigError(`DATABASE_URL must be sqlite:PATH or postgres://…, got "${value}"`);
  }
  return Object.freeze({
    backend: 'sqlite',
    path: match[1]!,
    synchronous: oneOf<SqliteSynchronous>(env, 'SQLITE_SYNCHRONOUS', ['full', 'normal'], 'full'),
  });
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const host = text(env, 'HOST') ?? '127.0.0.1';
  const explicitPublicUrl = httpUrl(env, 'PUBLIC_URL');
  const holdTtlSeconds = integer(env, 'HOLD_TTL_SECONDS', 600, 120, 86400);
  const upstreamTimeoutSeconds = integer(env, 'UPSTREAM_TIMEOUT_SECONDS', 300, 1, 86400);
  if (upstreamTimeoutSeconds >= holdTtlSeconds - 60) {
    throw new ConfigError(
      `UPSTREAM_TIMEOUT_SECONDS must be below HOLD_TTL_SECONDS - 60 (${holdTtlSeconds - 60}), got "${upstreamTimeoutSeconds}"`,
    );
  }
  const upstreams = loadUpstreams(env, upstreamTimeoutSeconds);
  const realUpstream = !onlyDemoUpstreams(upstreams);
  const stripeSecretKey = text(env, 'STRIPE_SECRET_KEY');
  const explicitPayments = text(env, 'PAYMENTS');
  const payments = oneOf<PaymentsMode>(env, 'PAYMENTS', ['stripe', 'demo', 'off'], stripeSecretKey ? 'stripe' : 'demo');
  if (payments === 'stripe' && !stripeSecretKey) {
    throw new ConfigError('PAYMENTS=stripe needs STRIPE_SECRET_KEY');
  }
  if (realUpstream && !stripeSecretKey && explicitPayments === null) {
    throw new ConfigError(
      `PAYMENTS must be set explicitly ("demo" or "off") when ${upstreams.file ? 'UPSTREAMS_FILE' : 'OPENAI_API_KEY'} is set without STRIPE_SECRET_KEY: demo payments would give real usage away`,
    );
  }
  const mailFrom = text(env, 'MAIL_FROM') ?? 'tokentab <no-reply@localhost>';
  const smtpUrl = text(env, 'SMTP_URL');
  if (smtpUrl !== null && !/^smtps?:\/\//.test(smtpUrl)) {
    throw new ConfigError('SMTP_URL must start with smtp:// or smtps://');
  }
  const adminEmails = (text(env, 'ADMIN_EMAILS') ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '');

  const metricsToken = text(env, 'METRICS_TOKEN');
  // A guessable token would open the counters to anyone; its bytes go into a header, so printable ASCII.
  if (metricsToken !== null && !/^[\x21-\x7e]{16,256}$/.test(metricsToken)) {
    throw new ConfigError('METRICS_TOKEN must be 16 to 256 printable characters without spaces');
  }

  return Object.freeze({
    port,
    host,
    publicUrl: explicitPublicUrl ?? `http://localhost:${port}`,
    publicUrlExplicit: explicitPublicUrl !== null,
    trustProxyHops: integer(env, 'TRUST_PROXY', 0, 0, 10),
    database: loadDatabaseConfig(env),
    roundingMode: oneOf<RoundingMode>(env, 'ROUNDING_MODE', ['exact', 'ceil'], 'exact'),
    upstreams,
    upstreamTimeoutSeconds,
    holdTtlSeconds,
    // Up to 290: the headers timeout (5 s more) must stay within Node's 300 s request timeout.
    keepAliveTimeoutSeconds: integer(env, 'KEEP_ALIVE_TIMEOUT_SECONDS', 65, 1, 290),
    maxInFlightPerUser: integer(env, 'MAX_IN_FLIGHT_PER_USER', 32, 1, 10_000),
    imageFetchTimeoutSeconds: integer(env, 'IMAGE_FETCH_TIMEOUT_SECONDS', 5, 1, 60),
    imageFetchAllowPrivate: oneOf(env, 'IMAGE_FETCH_ALLOW_PRIVATE', ['0', '1'] as const, '0') === '1',
    // Well below HOLD_TTL_SECONDS' least (120): the lease, not the TTL, is what gives a dead process's holds back.
    processLeaseSeconds: integer(env, 'PROCESS_LEASE_SECONDS', 5, 2, 60),
    sweepEverySeconds: integer(env, 'SWEEP_EVERY_SECONDS', 30, 1, 3600),
    reconcileEverySeconds: integer(env, 'RECONCILE_EVERY_SECONDS', 600, 1, 86_400),
    payments,
    stripeSecretKey,
    stripeWebhookSecret: text(env, 'STRIPE_WEBHOOK_SECRET'),
    stripeApiBase: httpUrl(env, 'STRIPE_API_BASE'),
    smtpUrl,
    mailFrom,
    signup: oneOf(env, 'SIGNUP', ['open', 'closed'] as const, 'open'),
    adminEmails: Object.freeze(adminEmails),
    metricsToken,
    metricsListen: listenAddress(env, 'METRICS_LISTEN'),
  });
}

/** HOST:PORT (an IPv6 host in brackets: [::1]:9464), or null when unset. */
function listenAddress(env: Env, name: string): { host: string; port: number } | null {
  const value = text(env, name);
  if (value === null) return null;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : 0;
  if (!match || port < 1 || port > 65535) throw new ConfigError(`${name} must be HOST:PORT (e.g. 127.0.0.1:9464), got "${value}"`);
  return { host: match[1] ?? match[2]!, port };
}

/** Demo mode: no real upstream or no real payments; shown as a banner on every page. */
export function isDemo(config: Config): boolean {
  return onlyDemoUpstreams(config.upstreams) || config.payments === 'demo';
}

/** UPSTREAMS_FILE read and checked whole (README, Several upstreams), or today's one upstream from OPENAI_*. */
function loadUpstreams(env: Env, upstreamTimeoutSeconds: number): UpstreamsConfig {
  const file = text(env, 'UPSTREAMS_FILE');
  if (file === null) return singleUpstream(text(env, 'OPENAI_API_KEY'), httpUrl(env, 'OPENAI_BASE_URL'));
  if (text(env, 'OPENAI_BASE_URL') !== null) {
    throw new ConfigError('OPENAI_BASE_URL cannot be used with UPSTREAMS_FILE: give each upstream its base_url in the file');
  }
  let content: string;
  try {
    // Bounded before it is read: the file is small, a mistake (a log, a device) must not be read whole.
    if (statSync(file).size > MAX_UPSTREAMS_FILE_BYTES) throw new ConfigError(`UPSTREAMS_FILE ${file}: the file is larger than ${MAX_UPSTREAMS_FILE_BYTES} bytes`);
    content = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`UPSTREAMS_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return parseUpstreamsFile(content, file, env, upstreamTimeoutSeconds);
  } catch (error) {
    if (error instanceof UpstreamsFileError) throw new ConfigError(`UPSTREAMS_FILE ${file}: ${error.message}`);
    throw error;
  }
}
