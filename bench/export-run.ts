// One CSV export measured in a fresh process (so idle RSS is not the seeding's leftovers):
// node --expose-gc --import tsx bench/export-run.ts DB_PATH EMAIL → prints a JSON line.
import { loadConfig } from '../src/config.ts';
import { systemClock } from '../src/clock.ts';
import { openSqlite, rawSqlite } from '../src/db/connect.ts';
import { createSession, generateSessionToken } from '../src/auth/sessions.ts';
import { createApp } from '../src/app.tsx';
import { createContext } from '../src/context.ts';
import { createHasher } from '../src/auth/hasher.ts';
import { findUserByEmail } from '../src/users/users.ts';

const [path, email, mode] = process.argv.slice(2);
const db = openSqlite(path!, 'normal');
const user = (await findUserByEmail(db, email!))!;

if (mode === 'bare') {
  // The baseline: a bare .iterate() over the same rows in the same order, nothing else.
  const statement = rawSqlite(db).prepare('select * from usage where user_id = ? order by created_at_ms desc, id desc');
  const started = performance.now();
  let rows = 0;
  for (const _row of statement.iterate(user.id)) rows++;
  console.log(JSON.stringify({ rows, seconds: (performance.now() - started) / 1000 }));
} else {
  const token = generateSessionToken();
  await createSession(db, systemClock, token, user.id);
  const app = createApp(createContext(loadConfig({}), { db, clock: systemClock, hasher: createHasher({ ln: 4, r: 8, p: 1 }), log: () => {} }));
  await (await app.request('/credits/usage.csv?from=2000-01-01&to=2000-01-01', { headers: { cookie: `session=${token}` } })).text();
  global.gc?.();
  const idle = process.memoryUsage().rss;
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const started = performance.now();
  const response = await app.request('/credits/usage.csv', { headers: { cookie: `session=${token}` } });
  const reader = response.body!.getReader();
  let newlines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = 0; i < value.length; i++) if (value[i] === 10) newlines++;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  console.log(JSON.stringify({ rows: newlines - 1, seconds, idleRssMb: idle / 2 ** 20, peakRssMb: peak / 2 ** 20 }));
}
await db.destroy();
