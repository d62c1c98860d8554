// Opens a PostgreSQL database behind kysely: a pg pool sized and timed by the config, and 64-bit
// integers read as JavaScript numbers, refused past 2^53 rather than rounded (docs/architecture.md, Two backends).
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { LRUCache } from 'lru-cache';
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

/**
 * Statement texts to run as named prepared statements, with their names: the hot path's fixed texts
 * (src/db/raw.ts marks them). An unnamed statement is parsed and planned on every run, which for the
 * ledger's statements costs more than running them (the limits read: about 0.4–0.5 ms of planning for
 * 0.13 ms of execution, measured with EXPLAIN ANALYZE; 0.88 → 0.33 ms a statement named). A name is
 * planned once per connection: pg sends its Parse only the first time on each. Names are never
 * reused for another text (a counter), as pg refuses that on a connection. Bounded like raw.ts's texts.
 */
const statementNames = new LRUCache<string, string>({ max: 1_000, maxSize: 1024 * 1024, sizeCalculation: (name, text) => 2 * (text.length + name.length) + 64 });
let namesGiven = 0;

/**
 * Marks a numbered text to be run as a named prepared statement wherever prepared statements are on.
 * Not a `select *`: a prepared statement's result columns are fixed when it is planned, and a
 * migration that adds a column (by a newer process of a rolling upgrade) would fail it with "cached
 * plan must not change result type" in the processes still running.
 */
export function prepareOnPostgres(text: string): void {
  if (!statementNames.has(text) && !/select \*/i.test(text)) statementNames.set(text, `tokentab_${++namesGiven}`);
}

/**
 * Counts each query a client of `pool` sends (kysely's and ours alike go through client.query), and
 * sends the texts prepareOnPostgres marked as named statements when `named`.
 */
function wrapQueries(pool: pg.Pool, named: boolean): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      roundTrips++;
      const [text, values] = args;
      // Without values pg sends a simple query, which may hold several statements (a write
      // transaction's opening, src/db/transaction.ts); a named one never may.
      const name = named && typeof text === 'string' && Array.isArray(values) && values.length > 0 ? statementNames.get(text) : undefined;
      // kysely calls query(text, values) and wants the promise back: the same call, named.
      return name === undefined ? query(...args) : query({ name, text, values });
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
  wrapQueries(pool, config.preparedStatements);
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}
