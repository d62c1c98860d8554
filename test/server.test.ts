// `npm start` as a person runs it: creates the database, migrates, seeds once, serves /healthz and
// a page in the shared layout; a bad setting stops it with one line.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Window } from 'happy-dom';
import BetterSqlite3 from 'better-sqlite3';
import { startServer, type RunningServer } from './helpers/server.ts';

const server = suite<{ dir: string; running: RunningServer[] }>('server');
server.before.each((context) => {
  context.dir = mkdtempSync(join(tmpdir(), 'tokentab-server-'));
  context.running = [];
});
server.after.each(async ({ dir, running }) => {
  for (const each of running) await each.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(dir: string, running: RunningServer[]): Promise<RunningServer> {
  const started = await startServer({ DATABASE_URL: `sqlite:${join(dir, 'nested', 'app.db')}` });
  running.push(started);
  return started;
}

server('creates the database with WAL, serves /healthz and the front page; a restart seeds nothing new', async ({ dir, running }) => {
  const first = await start(dir, running);
  assert.is(await (await fetch(`${first.url}/healthz`)).text(), 'ok');
  const page = await fetch(`${first.url}/`);
  assert.is(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const window = new Window();
  window.document.write(await page.text());
  assert.is(window.document.querySelector('.brand')?.textContent, 'tokentab');
  assert.match(window.document.querySelector('.banner-demo')?.textContent ?? '', /Demo mode/);
  const cells = [...window.document.querySelectorAll('tbody th')].map((th) => th.textContent);
  assert.equal(cells, ['Advanced (gpt-4o)', 'Eco (gpt-4o-mini)']);
  assert.is(window.document.querySelector('tbody td[data-mc="9600"]')?.textContent, '9.600');
  assert.is(await first.stop(), 0, 'SIGTERM stops cleanly');

  const second = await start(dir, running);
  await second.stop();
  const sqlite = new BetterSqlite3(join(dir, 'nested', 'app.db'), { readonly: true });
  assert.is(sqlite.pragma('journal_mode', { simple: true }), 'wal');
  assert.is((sqlite.prepare('select count(*) as n from rates').get() as { n: number }).n, 2, 'rates seeded once');
  assert.is((sqlite.prepare('select count(*) as n from packages').get() as { n: number }).n, 4);
  sqlite.close();
});

server('a bad setting stops the start with one line naming the variable', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, ROUNDING_MODE: 'round' }, encoding: 'utf8' });
  assert.is(result.status, 1);
  assert.is(result.stderr.trim(), 'ROUNDING_MODE must be "exact" or "ceil", got "round"');
});

server.run();
