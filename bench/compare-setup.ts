// bench:compare's setup, run inside the checkout being measured (its own migrations and code):
// two users with credits and two keys each in a fresh database. Prints the keys as JSON.
import { existsSync } from 'node:fs';

const [tree, databasePath] = process.argv.slice(2) as [string, string];
const load = (path: string) => import(`${tree}/src/${path}`);
// A tree from before PostgreSQL opened databases by path as openDatabase; later trees call it openSqlite.
const connect = await load('db/connect.ts');
const openSqlite = connect.openSqlite ?? connect.openDatabase;
const { migrateToLatest } = await load('db/migrate.ts');
const { seedDefaults } = await load('seed.ts');
const { createUser } = await load('users/users.ts');
const { grantCredits } = await load('ledger/credits.ts');
const { createApiKey } = await load('keys/keys.ts');
const { systemClock } = await load('clock.ts');
// A tree from before the ledger took its policy (src/ledger/policy.ts) has none to install.
if (existsSync(`${tree}/src/ledger/policy.ts`)) {
  const { installLedgerPolicy } = await load('ledger/policy.ts');
  const { spendingPolicy } = await load('spending-policy/policy.ts');
  installLedgerPolicy(spendingPolicy);
}
const db = openSqlite(databasePath, 'full');
await migrateToLatest(db);
await seedDefaults(db, systemClock);
const keys: string[] = [];
for (let u = 0; u < 2; u++) {
  const user = await createUser(db, systemClock, { email: `compare${u}@example.com`, passwordHash: 'x' });
  await grantCredits(db, systemClock, { userId: user.id, amountMc: 1_000_000_000_000, reason: 'bench' });
  for (let k = 0; k < 2; k++) keys.push((await createApiKey(db, systemClock, user.id, `compare ${k}`)).key);
}
await db.destroy();
console.log(JSON.stringify(keys));
