// Start-up only: config, database, migrations, seed, serve(), background jobs, and draining on SIGTERM.
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { systemClock } from './clock.ts';
import { openDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { seedDefaults } from './seed.ts';
import { createApp } from './app.tsx';
import { expireHolds } from './ledger/holds.ts';
import { startMailWorker } from './mail/worker.ts';
import { createTransport } from 'nodemailer';

const SWEEP_EVERY_MS = 30_000;

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const db = openDatabase(config.databasePath, config.sqliteSynchronous);
await migrateToLatest(db);
await seedDefaults(db, systemClock);

const app = createApp(config, { db, clock: systemClock });
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  console.log(`tokentab listening on http://${info.address}:${info.port} (public URL ${config.publicUrl})`);
});

const log = (line: string) => console.log(line);
const mailWorker = startMailWorker(db, systemClock, {
  transport: config.smtpUrl ? createTransport(config.smtpUrl) : null,
  from: config.mailFrom,
  log,
});

const sweeper = setInterval(() => {
  expireHolds(db, systemClock).catch((error: Error) => console.error(`hold sweeper: ${error.message}`));
}, SWEEP_EVERY_MS);
sweeper.unref();

let stopping = false;
function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: no longer accepting connections; draining`);
  clearInterval(sweeper);
  server.close(async () => {
    await mailWorker.stop();
    await db.destroy();
    process.exit(0);
  });
  // Calls still running after 10 s are cut off (the gateway settles them as aborted).
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
