// bench:footprint's import costs: in one fresh Node process, imports each package the server loads, in
// the server's order, and prints as one JSON line what each added: resident memory, V8 heap in use
// (after a full GC) and CPU time. A package two share is counted at the first.
const MODULES = ['hono', '@hono/node-server', 'better-sqlite3', 'kysely', 'pg', 'zod', 'openai', 'prom-client', 'lru-cache', 'gpt-tokenizer/encoding/o200k_base', 'stripe', 'nodemailer'];

const cpuMs = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const rows = [];
globalThis.gc();
let before = { rssMb: process.memoryUsage().rss / 1e6, heapMb: process.memoryUsage().heapUsed / 1e6, cpuMs: cpuMs() };
const base = before;
for (const module of MODULES) {
  await import(module);
  globalThis.gc();
  const after = { rssMb: process.memoryUsage().rss / 1e6, heapMb: process.memoryUsage().heapUsed / 1e6, cpuMs: cpuMs() };
  rows.push({ module, rssMb: after.rssMb - before.rssMb, heapMb: after.heapMb - before.heapMb, cpuMs: after.cpuMs - before.cpuMs });
  before = after;
}
console.log(JSON.stringify({ baseRssMb: base.rssMb, rows }));
