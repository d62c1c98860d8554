// bench:pages — the Credits tab's reads must not grow with history. One user with 1,000 and with
// 1,000,000 usage rows (and their ledger rows): server time of the first usage page, a page 20
// cursors deep, a filtered page and the spend summary (ratio 1M ÷ 1k, goal ≤ 1.5); then a 1M-row
// CSV export against a bare .iterate() over the same rows (goal ≥ 0.5) and its peak RSS (goal ≤ idle
// + 128 MB, and within 32 MB of a 100k-row export's peak).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { systemClock } from '../src/clock.ts';
import { openSqlite, rawSqlite, type DB } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import { createSession, generateSessionToken } from '../src/auth/sessions.ts';
import { createApp } from '../src/app.tsx';
import { createContext } from '../src/context.ts';
import { createHasher } from '../src/auth/hasher.ts';
import { cursorSecret, encodeCursor } from '../src/db/cursor.ts';
import { usagePage } from '../src/usage/usage-queries.ts';
import { utcMonth } from '../src/month.ts';
import { usageEntryKey } from '../src/ledger/idempotency-keys.ts';
import { appendResults, machine } from './machine.ts';

const MINUTE_MS = 60_000;
const NOW_MS = Date.now();

interface Fixture {
  db: DB;
  path: string;
  email: string;
  app: ReturnType<typeof createApp>;
  cookie: string;
  userId: number;
  rows: number;
}

/** Inserts `rows` settled calls a minute apart, ending now, with their ledger rows and the month's rollup. */
function seedHistory(db: DB, userId: number, rows: number): void {
  const sqlite = rawSqlite(db);
  const rate = sqlite.prepare("select * from rates where model = 'gpt-4o-mini'").get() as { id: number };
  sqlite.prepare(`insert into holds (user_id, api_key_id, request_id, model, rate_id, amount_mc, input_mc_per_1k, cached_input_mc_per_1k, output_mc_per_1k, rounding_mode, status, created_at_ms, expires_at_ms, ended_at_ms)
    values (?, null, 'bench-hold', 'gpt-4o-mini', ?, 0, 2400, 1200, 9600, 'exact', 'settled', ?, ?, ?)`).run(userId, rate.id, NOW_MS, NOW_MS, NOW_MS);
  const holdId = (sqlite.prepare("select id from holds where request_id = 'bench-hold'").get() as { id: number }).id;
  const usage = sqlite.prepare(`insert into usage (request_id, user_id, hold_id, api_key_id, model, input_tokens, cached_input_tokens, output_tokens, input_mc_per_1k, cached_input_mc_per_1k, output_mc_per_1k, rounding_mode, hold_mc, charged_mc, shortfall_mc, status, estimated, latency_ms, upstream_response_id, created_at_ms)
    values (?, ?, ?, null, ?, 200, 0, 100, 2400, 1200, 9600, 'exact', 2000, ?, 0, 'ok', 0, 300, null, ?)`);
  const ledger = sqlite.prepare(`insert into ledger_entries (user_id, type, amount_mc, balance_after_mc, shortfall_mc, reference, idempotency_key, created_at_ms) values (?, ?, ?, ?, 0, ?, ?, ?)`);
  const perCallMc = 1_440;
  let balance = rows * perCallMc;
  sqlite.transaction(() => {
    ledger.run(userId, 'grant', balance, balance, 'bench', null, NOW_MS - (rows + 1) * MINUTE_MS);
    for (let i = rows - 1; i >= 0; i--) {
      const at = NOW_MS - i * MINUTE_MS;
      const requestId = `req_bench_${i}`;
      const model = i % 2 ? 'gpt-4o' : 'gpt-4o-mini';
      usage.run(requestId, userId, holdId, model, perCallMc, at);
      balance -= perCallMc;
      ledger.run(userId, 'usage', -perCallMc, balance, requestId, usageEntryKey(requestId), at);
    }
    sqlite.prepare('update wallets set balance_mc = ? where user_id = ?').run(balance, userId);
    const month = utcMonth(NOW_MS);
    const inMonth = sqlite.prepare('select model, sum(charged_mc) as mc, count(*) as n from usage where user_id = ? and created_at_ms >= ? group by model').all(userId, Date.parse(`${month}-01T00:00:00Z`)) as { model: string; mc: number; n: number }[];
    for (const r of inMonth) sqlite.prepare('insert into monthly_spend (user_id, month, model, api_key_id, charged_mc, calls) values (?, ?, ?, 0, ?, ?)').run(userId, month, r.model, r.mc, r.n);
  })();
  sqlite.pragma('optimize');
}

async function fixture(dir: string, rows: number): Promise<Fixture> {
  const path = join(dir, `pages-${rows}.db`);
  const db = openSqlite(path, 'normal');
  await migrateToLatest(db);
  await seedDefaults(db, systemClock);
  const email = `bench${rows}@example.com`;
  const user = await createUser(db, systemClock, { email, passwordHash: 'x' });
  seedHistory(db, user.id, rows);
  const token = generateSessionToken();
  await createSession(db, systemClock, token, user.id);
  const config = loadConfig({ DATABASE_URL: 'sqlite:unused.db' });
  const app = createApp(createContext(config, { db, clock: systemClock, hasher: createHasher({ ln: 4, r: 8, p: 1 }), log: () => {} }));
  return { db, path, email, app, cookie: `session=${token}`, userId: user.id, rows };
}

async function serverMs(f: Fixture, path: string, htmx = true): Promise<number> {
  const started = performance.now();
  const response = await f.app.request(path, { headers: { cookie: f.cookie, ...(htmx ? { 'HX-Request': 'true' } : {}) } });
  await response.text();
  if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
  return performance.now() - started;
}

const medianOf = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

/** The URL of the page reached by following "Older" 20 times. */
async function deepPagePath(f: Fixture): Promise<string> {
  const secret = await cursorSecret(f.db);
  let cursor = null;
  for (let i = 0; i < 20; i++) {
    const page = await usagePage(f.db, f.userId, { model: null, key: null, fromMs: null, untilMs: null, cursor });
    cursor = page.older;
  }
  return `/credits/usage?cursor=${encodeCursor(secret, cursor!)}`;
}

function day(ms: number) {
  return new Date(ms).toISOString().slice(0, 10);
}

const READS = ['first', 'deep', 'filtered', 'spend'] as const;
type Read = (typeof READS)[number];

async function readPaths(f: Fixture): Promise<Record<Read, string>> {
  // A filtered page: one model over the last day or two.
  const from = day(NOW_MS - 10 * 60 * MINUTE_MS);
  return { first: '/credits/usage', deep: await deepPagePath(f), filtered: `/credits/usage?model=gpt-4o&from=${from}&to=${day(NOW_MS)}`, spend: '/credits/spend' };
}

/**
 * Median server time of each read on both histories, the two measured in alternation so that a
 * change of load on the shared machine falls on both alike.
 */
async function pageFigures(small: Fixture, large: Fixture, runs = 200) {
  const [smallPaths, largePaths] = await Promise.all([readPaths(small), readPaths(large)]);
  const result = { small: {} as Record<Read, number>, large: {} as Record<Read, number> };
  for (const read of READS) {
    for (let i = 0; i < 10; i++) await Promise.all([serverMs(small, smallPaths[read]), serverMs(large, largePaths[read])]);
    const smallTimes: number[] = [];
    const largeTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      smallTimes.push(await serverMs(small, smallPaths[read]));
      largeTimes.push(await serverMs(large, largePaths[read]));
    }
    result.small[read] = medianOf(smallTimes);
    result.large[read] = medianOf(largeTimes);
  }
  return result;
}

interface ExportFigures {
  rows: number;
  seconds: number;
  idleRssMb: number;
  peakRssMb: number;
}

/** Runs bench/export-run.ts in a fresh process on the fixture's database file. */
function measureInChild(f: Fixture, mode: 'export' | 'bare'): ExportFigures {
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/export-run.ts', f.path, f.email, mode], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`export-run failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

const dir = mkdtempSync(join(tmpdir(), 'tokentab-bench-pages-'));
console.log(`bench:pages on ${machine()}`);
try {
  const small = await fixture(dir, 1_000);
  const large = await fixture(dir, 1_000_000);
  console.log('seeded 1k and 1M rows');
  const { small: smallPages, large: largePages } = await pageFigures(small, large);
  const lines = ['| read | 1k rows (ms, median) | 1M rows (ms, median) | ratio 1M ÷ 1k | goal ≤ 1.5 |', '|---|---|---|---|---|'];
  for (const name of ['first', 'deep', 'filtered', 'spend'] as const) {
    const ratio = largePages[name] / smallPages[name];
    const label = { first: 'first usage page', deep: 'page after 20 cursors', filtered: 'filtered page (model + dates)', spend: 'spend summary' }[name];
    lines.push(`| ${label} | ${smallPages[name].toFixed(2)} | ${largePages[name].toFixed(2)} | ${ratio.toFixed(2)} | ${ratio <= 1.5 ? 'met' : 'NOT met'} |`);
    console.log(`${label}: 1k ${smallPages[name].toFixed(2)} ms, 1M ${largePages[name].toFixed(2)} ms, ratio ${ratio.toFixed(2)}`);
  }

  const medium = await fixture(dir, 100_000);
  const mediumExport = measureInChild(medium, 'export');
  const bare = measureInChild(large, 'bare');
  const largeExport = measureInChild(large, 'export');
  if (largeExport.rows !== 1_000_000 || mediumExport.rows !== 100_000) throw new Error(`export row counts ${largeExport.rows}, ${mediumExport.rows}`);
  const exportRate = largeExport.rows / largeExport.seconds;
  const bareRate = bare.rows / bare.seconds;
  const rssGrowth = largeExport.peakRssMb - largeExport.idleRssMb;
  const peakGap = largeExport.peakRssMb - mediumExport.peakRssMb;
  lines.push('', '| CSV export | figure | goal |', '|---|---|---|');
  lines.push(`| 1M rows exported | ${exportRate.toFixed(0)} rows/s vs bare .iterate() ${bareRate.toFixed(0)} rows/s: ratio ${(exportRate / bareRate).toFixed(2)} | ≥ 0.5 ${exportRate / bareRate >= 0.5 ? 'met' : 'NOT met'} |`);
  lines.push(`| peak RSS, 1M export | ${largeExport.peakRssMb.toFixed(0)} MB, idle ${largeExport.idleRssMb.toFixed(0)} MB (+${rssGrowth.toFixed(0)} MB) | ≤ idle + 128 MB ${rssGrowth <= 128 ? 'met' : 'NOT met'} |`);
  lines.push(`| peak RSS, 1M vs 100k export | ${largeExport.peakRssMb.toFixed(0)} MB vs ${mediumExport.peakRssMb.toFixed(0)} MB (${peakGap >= 0 ? '+' : ''}${peakGap.toFixed(0)} MB) | within 32 MB ${Math.abs(peakGap) <= 32 ? 'met' : 'NOT met'} |`);
  console.log(lines.slice(-3).join('\n'));
  appendResults('bench:pages', lines);
  for (const f of [small, medium, large]) await f.db.destroy();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
