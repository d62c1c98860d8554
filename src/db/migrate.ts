// Applies the forward-only migrations in migrations/index.ts, in order, once each. On PostgreSQL the
// run is kept to one process at a time by a transaction-scoped advisory lock, taken first in the
// migration's own transaction, so it also works behind a transaction-mode pooler (PgBouncer).
import { CompiledQuery, Kysely, Migrator, PostgresAdapter, PostgresDialect, PostgresDriver, type DatabaseConnection, type Driver, type DialectAdapter, type TransactionSettings } from 'kysely';
import { migrations } from '../../migrations/index.ts';
import { dbInfo, type DB } from './connect.ts';

/**
 * The lock's key: kysely's own (its PostgresAdapter's LOCK_ID), so a process of an earlier build,
 * which takes it as a session-level lock, and one of this build still keep each other out.
 */
const MIGRATION_LOCK_KEY = '3853314791062309107';

/**
 * kysely's migrator takes a session-level lock (pg_advisory_lock) on its connection before its
 * transaction and releases it in a later statement: behind a transaction-mode pooler those statements
 * may run on different server connections, so the lock neither keeps two starts apart nor is surely
 * released. Here the lock is taken by the migration transaction's first statement and ends with it
 * (pg_advisory_xact_lock): whoever waits for it then reads the migrations the first one committed.
 */
class TransactionLockDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await super.beginTransaction(connection, settings);
    await connection.executeQuery(CompiledQuery.raw(`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`));
  }
}

class TransactionLockAdapter extends PostgresAdapter {
  // The lock is the transaction's (TransactionLockDriver): nothing to take before it or release after.
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}

class MigrationDialect extends PostgresDialect {
  readonly #config: ConstructorParameters<typeof PostgresDialect>[0];
  constructor(config: ConstructorParameters<typeof PostgresDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new TransactionLockDriver(this.#config);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionLockAdapter();
  }
}

/** The database the migrator runs on: on PostgreSQL the same pool through MigrationDialect. */
function migrationDb(db: DB): Kysely<any> {
  const info = dbInfo(db);
  if (info.backend !== 'postgres') return db;
  // Not destroyed after: that would end the pool, which `db` goes on using.
  return new Kysely<any>({ dialect: new MigrationDialect({ pool: info.pool }) });
}

export async function migrateToLatest(db: DB): Promise<void> {
  const migrator = new Migrator({ db: migrationDb(db), provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error');
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
