// Which database the tests run on (TEST_BACKEND=postgres, test/run.mjs's second pass, or SQLite),
// and what a test needs of it without the ledger's policy installed (test/ledger-policy.test.ts
// installs its own): opening a DATABASE_URL, an empty database for a server to set up, SQLite-only tests.
import { join } from 'node:path';
import { openDatabase, type DB } from '../../src/db/connect.ts';
import { loadDatabaseConfig } from '../../src/config.ts';
import { createDatabase, dropDatabase, testServerUrl, uniqueDatabaseName } from './postgres.ts';

/** Which database the tests run on: TEST_BACKEND=postgres (test/run.mjs's second pass) or SQLite. */
export const TEST_BACKEND: 'sqlite' | 'postgres' = process.env.TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

/**
 * `suite` on SQLite; on PostgreSQL the test is not registered at all: what only SQLite has (its file,
 * its online backup) does not exist there, so there is nothing to skip (PostgreSQL's own behaviour,
 * such as `backup` refusing, has its own test). Listed in test/README.md.
 */
export function sqliteOnly<S extends { skip: unknown }>(suite: S): S | ((name: string, handler: unknown) => void) {
  return TEST_BACKEND === 'sqlite' ? suite : () => {};
}

/**
 * Opens a DATABASE_URL as the app would (a second connection to a test's database, a server's);
 * `poolSize`: PostgreSQL's connections at most (DATABASE_POOL_SIZE), the app's default otherwise.
 */
export function openTestDatabase(url: string, poolSize?: number): DB {
  return openDatabase(loadDatabaseConfig({ DATABASE_URL: url, SQLITE_SYNCHRONOUS: 'normal', ...(poolSize ? { DATABASE_POOL_SIZE: String(poolSize) } : {}) }));
}

/** Databases this process made on the PostgreSQL server, dropped when it is done. */
const made = new Set<string>();

export function rememberDatabase(name: string): void {
  made.add(name);
}
let dropping = false;
process.on('beforeExit', () => {
  if (dropping || made.size === 0) return;
  dropping = true;
  void testServerUrl().then(async (server) => {
    for (const name of made) await dropDatabase(server, name).catch(() => {});
    made.clear();
  });
});

export async function newPostgresDatabase(template?: string): Promise<{ url: string; drop(): Promise<void> }> {
  const server = await testServerUrl();
  const name = uniqueDatabaseName();
  made.add(name);
  const url = await createDatabase(server, name, template);
  return {
    url,
    async drop() {
      made.delete(name);
      await dropDatabase(server, name);
    },
  };
}

/**
 * A DATABASE_URL for a server or CLI process to create and migrate itself (npm start's first run):
 * a file `name` in `dir` on SQLite, an empty database on PostgreSQL.
 */
export async function emptyDatabaseUrl(dir: string, name: string): Promise<string> {
  if (TEST_BACKEND === 'postgres') return (await newPostgresDatabase()).url;
  return `sqlite:${join(dir, name)}`;
}

