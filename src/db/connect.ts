// Opens the configured database behind kysely: the SQLite file (WAL, busy_timeout, foreign keys,
// synchronous as configured) or a PostgreSQL server (./postgres.ts), and tells which one a DB is.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
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
 * prepared statements are kept by their SQL text, least recently used dropped first, at most 500 and
 * at most 8 MiB as estimated by statementBytes (docs/architecture.md, Caches).
 */
const STATEMENTS_KEPT = 500;
const STATEMENT_BYTES_KEPT = 8 * 1024 * 1024;

/**
 * What a prepared statement holds, over-estimated from its text: SQLite's compiled program grows with
 * the statement (measured with better-sqlite3 12: about 5.7 KB for 72 characters, 10 KB for 219,
 * 60 KB for 1,269, JavaScript wrapper included).
 */
export function statementBytes(text: string): number {
  return 4096 + 48 * text.length;
}

function withStatementCache(sqlite: BetterSqlite3.Database) {
  const cache = new LRUCache<string, BetterSqlite3.Statement>({ max: STATEMENTS_KEPT, maxSize: STATEMENT_BYTES_KEPT, sizeCalculation: (_statement, text) => statementBytes(text) });
  return {
    close: () => sqlite.close(),
    prepare(text: string): BetterSqlite3.Statement {
      let statement = cache.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
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
