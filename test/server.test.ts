// `npm start` as a person runs it: creates the database, migrates, seeds once, serves /healthz and
// a page in the shared layout; a bad setting stops it with one line.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Window } from 'happy-dom';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { startServer, type RunningServer } from './helpers/server.ts';
import { TEST_BACKEND, emptyDatabaseUrl, openTestDatabase } from './helpers/backend.ts';

const server = suite<{ dir: string; databaseUrl: string; running: RunningServer[] }>('server');
server.before.each(async (context) => {
  context.dir = mkdtempSync(join(tmpdir(), 'tokentab-server-'));
  // SQLite: a file in a folder that does not exist yet; PostgreSQL: an empty database.
  context.databaseUrl = await emptyDatabaseUrl(join(context.dir, 'nested'), 'app.db');
  context.running = [];
});
server.after.each(async ({ dir, running }) => {
  for (const each of running) await each.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(databaseUrl: string, running: RunningServer[], nodeArgs?: string[]): Promise<RunningServer> {
  const started = await startServer({ DATABASE_URL: databaseUrl }, nodeArgs);
  running.push(started);
  return started;
}

server('creates the database with WAL, serves /healthz and the front page; a restart seeds nothing new', async ({ dir, databaseUrl, running }) => {
  const first = await start(databaseUrl, running);
  assert.is(await (await fetch(`${first.url}/healthz`)).text(), 'ok');
  const page = await fetch(`${first.url}/`);
  assert.is(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const window = new Window();
  window.document.write(await page.text());
  assert.is(window.document.querySelector('.brand')?.textContent, 'tokentab');
  assert.match(window.document.querySelector('.banner-demo')?.textContent ?? '', /Demo mode/);
  const cells = [...window.document.querySelectorAll('tbody th')].map((th) => th.textContent);
  assert.equal(cells, ['Advanced (gpt-4o)', 'Eco (gpt-4o-mini)', 'Search Plus (text-embedding-3-large)', 'Search (text-embedding-3-small)']);
  const gpt4oInput = window.document.querySelector('tbody td[data-mc="9600"]');
  assert.is(gpt4oInput?.querySelector('span')?.textContent, '9.600', 'credits per 1k tokens');
  assert.is(gpt4oInput?.querySelector('.per-1m')?.textContent, '$9.60', 'dollars per 1M tokens');
  assert.is(await first.stop(), 0, 'SIGTERM stops cleanly');

  const second = await start(databaseUrl, running);
  await second.stop();
  if (TEST_BACKEND === 'sqlite') {
    const sqlite = new BetterSqlite3(join(dir, 'nested', 'app.db'), { readonly: true });
    assert.is(sqlite.pragma('journal_mode', { simple: true }), 'wal');
    sqlite.close();
  }
  const db = openTestDatabase(databaseUrl);
  const count = async (table: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0]!.n);
  assert.is(await count('rates'), 4, 'rates seeded once: two chat and two embedding models');
  assert.is(await count('packages'), 4);
  await db.destroy();
});

server('npm start runs the JavaScript built into dist/: it serves /healthz and a page, and stops cleanly', async ({ databaseUrl, running }) => {
  const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
  // Node with V8's memory flags (docs/architecture.md, Start-up and memory), no TypeScript loader at run time.
  assert.match(scripts.start!, /^node (--[a-z-]+(=\d+)? )*dist\/server\.js$/);
  assert.is(scripts.prepare, 'node scripts/build.mjs', 'npm install builds it');
  // What npm runs before start: the build, only when a source is newer than dist/ (or dist/ is missing).
  const prestart = spawnSync('sh', ['-c', scripts.prestart!], { encoding: 'utf8' });
  assert.is(prestart.status, 0, prestart.stderr);
  const built = await start(databaseUrl, running, scripts.start!.split(' ').slice(1));
  assert.is(await (await fetch(`${built.url}/healthz`)).text(), 'ok');
  const page = await fetch(`${built.url}/`);
  assert.is(page.status, 200);
  assert.match(await page.text(), /class="brand"/);
  assert.is(await built.stop(), 0, 'SIGTERM stops cleanly');
});

server('a bad setting stops the start with one line naming the variable', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, ROUNDING_MODE: 'round' }, encoding: 'utf8' });
  assert.is(result.status, 1);
  assert.is(result.stderr.trim(), 'ROUNDING_MODE must be "exact" or "ceil", got "round"');
});

server.run();
