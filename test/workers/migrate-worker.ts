// A separate OS process that migrates a database as a server's start does: it says "ready", waits for
// "go" on stdin so its peers start with it, runs migrateToLatest and prints "migrated" or "failed …".
//   DATABASE_URL
import { createInterface } from 'node:readline';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { openTestDatabase } from '../helpers/backend.ts';

const db = openTestDatabase(process.argv[2]!, 2);
createInterface({ input: process.stdin }).once('line', async () => {
  try {
    await migrateToLatest(db);
    console.log('migrated');
  } catch (error) {
    console.log(`failed ${(error as Error).message.replaceAll('\n', ' ')}`);
  }
  await db.destroy();
  process.exit(0);
});
console.log('ready');
