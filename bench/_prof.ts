import BetterSqlite3 from 'better-sqlite3';
const orig = BetterSqlite3.prototype.prepare;
const times = new Map<string, [number, number]>();
(BetterSqlite3.prototype as any).prepare = function (sql: string) {
  const st = orig.call(this, sql);
  for (const m of ['run', 'all', 'get']) {
    const f = (st as any)[m].bind(st);
    (st as any)[m] = (...a: any[]) => { const t = performance.now(); try { return f(...a); } finally { const e = times.get(sql) ?? [0, 0]; e[0] += performance.now() - t; e[1]++; times.set(sql, e); } };
  }
  return st;
};
const { systemClock } = await import('../src/clock.ts');
const { openDatabase } = await import('../src/db/connect.ts');
const { migrateToLatest } = await import('../src/db/migrate.ts');
const { seedDefaults } = await import('../src/seed.ts');
const { createUser } = await import('../src/users/users.ts');
const { grantCredits } = await import('../src/ledger/credits.ts');
const { placeHold, settleHold } = await import('../src/ledger/holds.ts');
const { currentRate } = await import('../src/pricing/rates.ts');
const db = openDatabase('/tmp/p2.db', 'normal');
await migrateToLatest(db); await seedDefaults(db, systemClock);
const user = await createUser(db, systemClock, { email: `b${Date.now()}@example.com`, passwordHash: 'x' });
await grantCredits(db, systemClock, { userId: user.id, amountMc: 1e12, reason: 'b' });
const rate = (await currentRate(db, 'gpt-4o-mini'))!;
times.clear();
const t0 = performance.now();
for (let i = 0; i < 3000; i++) {
  const hold = await placeHold(db, systemClock, { userId: user.id, apiKeyId: null, requestId: `b_${Date.now()}_${i}`, rate, roundingMode: 'exact', amountMc: 200_000, ttlMs: 600_000 });
  await settleHold(db, systemClock, hold.id, { tokens: { inputTokens: 200, cachedInputTokens: 0, outputTokens: 100 }, status: 'ok', estimated: false, latencyMs: 1 });
}
console.log('per charge us', (performance.now() - t0) / 3000 * 1000);
for (const [k, [t, n]] of [...times].sort((a, b) => b[1][0] - a[1][0])) console.log((t / n * 1000).toFixed(1), 'us', n, k.slice(0, 90));
