// `db:copy --to postgres://…`: moves a SQLite install to an empty PostgreSQL database (README, Moving
// from SQLite to PostgreSQL): migrates the target, copies every row (src/db/copy-to-postgres.ts),
// then checks each table's count and runs `audit` on the target.
import { audit } from '../audit.ts';
import { loadDatabaseConfig } from '../config.ts';
import { openDatabase } from '../db/connect.ts';
import { copySqliteToPostgres, countRows } from '../db/copy-to-postgres.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { UsageError, type Command } from './commands.ts';

export const dbCopy: Command = {
  options: { to: { type: 'string' } },
  positionals: 0,
  async prepare(values, _positionals, _io, config) {
    if (config.database.backend !== 'sqlite') {
      throw new UsageError('DATABASE_URL is already PostgreSQL; db:copy moves a SQLite install (DATABASE_URL=sqlite:PATH) to PostgreSQL');
    }
    const to = typeof values.to === 'string' ? values.to.trim() : '';
    // The URL may carry a password: a message names the flag, never the value.
    if (!/^postgres(ql)?:\/\//.test(to) || !URL.canParse(to)) throw new UsageError('--to must be a postgres://USER:PASSWORD@HOST:PORT/DB URL');
    // No statement timeout: the audit of a large install may run for minutes, and the copy's own
    // statements are batches of at most 1,000 rows into tables nobody else may write meanwhile.
    const targetConfig = loadDatabaseConfig({ DATABASE_URL: to, DATABASE_POOL_SIZE: '2', DATABASE_STATEMENT_TIMEOUT_MS: '0' });
    return async ({ db: source, io }) => {
      const target = openDatabase(targetConfig);
      try {
        await migrateToLatest(target);
        const result = await copySqliteToPostgres(source, target, { onTable: ({ table, rows }) => io.out(`copied ${table}: ${rows} rows`) });
        io.out(`moved ${result.sequences} id sequences past the copied ids`);
        const counts = await countRows(target, result.tables.map(({ table }) => table));
        const problems: string[] = [];
        io.out('table\tSQLite\tPostgreSQL');
        for (const { table, rows } of result.tables) {
          io.out(`${table}\t${rows}\t${counts.get(table)}`);
          if (counts.get(table) !== rows) problems.push(`${table}: ${rows} rows copied but ${counts.get(table)} in PostgreSQL`);
        }
        for (const violation of await audit(target)) problems.push(`audit on the target, invariant ${violation.invariant}: ${violation.detail}`);
        for (const problem of problems) io.out(problem);
        io.out(problems.length === 0 ? 'ok' : String(problems.length));
        return problems.length === 0 ? 0 : 1;
      } finally {
        await target.destroy();
      }
    };
  },
};
