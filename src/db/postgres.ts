// Opens a PostgreSQL database behind kysely: a pg pool sized and timed by the config, and 64-bit
// integers read as JavaScript numbers, refused past 2^53 rather than rounded (docs/architecture.md, Two backends).
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { PostgresConfig } from '../config.ts';
import type { Database } from './schema.ts';

/** PostgreSQL's type ids: int8 (bigint: money, time, ids, count(*)) and numeric (sum() of a bigint). */
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * A bigint or numeric column's text as a number. Money is integer millicredits and time integer
 * milliseconds, so any value a number cannot hold exactly is refused: a rounded balance would be a
 * wrong balance, silently.
 */
export function parseSafeNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`the database returned ${text}, beyond what a JavaScript number holds exactly (±${Number.MAX_SAFE_INTEGER})`);
  }
  return value;
}

/** The pool's own type parsers, so nothing global in pg is changed for other users of the module. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return parseSafeNumber;
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid);
  },
} as pg.CustomTypesConfig;

let roundTrips = 0;

/**
 * Statements this process has sent to PostgreSQL, over every pool: each is one round trip, whatever
 * it holds (a BEGIN sent with the wallet lock is one). The metered path's figure (docs/architecture.md,
 * Round trips) is read from it: /metrics, bench:multi.
 */
export function postgresRoundTrips(): number {
  return roundTrips;
}

/** Counts each query a client of `pool` sends (kysely's and ours alike go through client.query). */
function countRoundTrips(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      roundTrips++;
      return query(...args);
    };
  });
}

export function openPostgres(config: PostgresConfig): { db: Kysely<Database>; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectTimeoutMs,
    ...(config.statementTimeoutMs > 0 ? { statement_timeout: config.statementTimeoutMs } : {}),
    types,
  });
  // An idle connection the server dropped (a restart, an admin's terminate) is an error on the pool,
  // not on any query: without a listener it would end the process.
  pool.on('error', (error) => console.error(`postgres pool: ${error.message}`));
  countRoundTrips(pool);
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}
