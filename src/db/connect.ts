// Opens the configured database behind kysely: the SQLite file (WAL, busy_timeout, foreign keys,
// synchronous as configured) or a PostgreSQL server (./postgres.ts), and tells which one a DB is.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { Kysely } from 'kysely';
import type { DatabaseConfig, SqliteSynchronous } from '../config.ts';
import { ImmediateSqliteDialect } from './immediate-sqlite.ts';
import { openPostgres } from './postgres.ts';
import type { Database } from './schema.ts';

export type DB = Kysely<Database>;

type DbInfo =
  | {
      backend: 'sqlite';
      synchronous: SqliteSynchronous;
      sqlite: BetterSqlite3.Database;
      /** The prepared statements kysely runs, by SQL text (see withStatementCache). */
      statements: StatementCache;
    }
  | {
      backend: 'postgres';
      /** The pool behind it: the migrations run on it through a dialect of their own (src/db/migrate.ts). */
      pool: pg.Pool;
    };

export interface StatementCache {
  prepare(text: string): BetterSqlite3.Statement;
}

const infoByDb = new WeakMap<DB, DbInfo>();

export function openDatabase(config: DatabaseConfig): DB {
  if (config.backend === 'sqlite') return openSqlite(config.path, config.synchronous);
  const { db, pool } = openPostgres(config);
  infoByDb.set(db, { backend: 'postgres', pool });
  return db;
}

/** A SQLite file by its path: what openDatabase opens for sqlite:PATH (benchmarks and SQLite-only tests call it directly). */
export function openSqlite(path: string, synchronous: SqliteSynchronous = 'full'): DB {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: statements }) });
  infoByDb.set(db, { backend: 'sqlite', synchronous, sqlite, statements });
  return db;
}

/**
 * kysely prepares every statement anew; the ledger runs the same few statements over and over, so
 * prepared statements are kept by their SQL text (bounded, oldest dropped first).
 */
function withStatementCache(sqlite: BetterSqlite3.Database, limit = 500) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string): BetterSqlite3.Statement {
      let statement = cache.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (cache.size >= limit) cache.delete(cache.keys().next().value!);
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

export function dbInfo(db: DB): DbInfo {
  const info = infoByDb.get(db);
  if (!info) throw new Error('database was not opened with openDatabase()');
  return info;
}

/** The raw better-sqlite3 handle, for backup and for the benchmark's baseline only. */
export function rawSqlite(db: DB): BetterSqlite3.Database {
  const info = dbInfo(db);
  if (info.backend !== 'sqlite') throw new Error('this database is not SQLite');
  return info.sqlite;
}
