// The operator's CLI: each command's last line, exit codes 0/1/2, and bad arguments writing nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { runCli } from '../src/cli/run.ts';
import { ManualClock } from '../src/clock.ts';
import { START_MS } from './helpers/db.ts';
import { emptyDatabaseUrl, openTestDatabase, sqliteOnly } from './helpers/backend.ts';

interface Run {
  code: number;
  lines: string[];
  errors: string[];
  last: string;
}

const cli = suite<{ dir: string; env: Record<string, string>; run: (args: string[], stdin?: string) => Promise<Run> }>('cli');
cli.before.each(async (context) => {
  context.dir = mkdtempSync(join(tmpdir(), 'tokentab-cli-'));
  context.env = { DATABASE_URL: await emptyDatabaseUrl(context.dir, 'cli.db'), SQLITE_SYNCHRONOUS: 'normal' };
  context.run = async (args, stdin = '') => {
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await runCli(args, { env: context.env, clock: new ManualClock(START_MS), readStdin: async () => stdin, out: (l) => lines.push(l), err: (l) => errors.push(l) });
    return { code, lines, errors, last: lines.at(-1) ?? '' };
  };
});
cli.after.each(({ dir }) => rmSync(dir, { recursive: true, force: true }));

async function ledgerRows(env: Record<string, string>): Promise<number> {
  const db = openTestDatabase(env.DATABASE_URL!);
  const { rows } = await sql<{ n: number }>`select count(*) as n from ledger_entries`.execute(db);
  await db.destroy();
  return Number(rows[0]!.n);
}

cli('user:create, grant, adjust and balance print the value alone on the last line', async ({ run, env }) => {
  const created = await run(['user:create', '--email', 'Ada@Example.com', '--password-stdin'], 'a long password\n');
  assert.is(created.code, 0, created.errors.join());
  assert.match(created.last, /^\d+$/);
  const grant = await run(['credits:grant', '--email', 'ada@example.com', '--credits', '1012.5', '--reason', 'welcome', '--idempotency-key', 'w1']);
  assert.is(grant.code, 0);
  assert.is(grant.last, '1012.500');
  const repeat = await run(['credits:grant', '--email', 'ada@example.com', '--credits', '1012.5', '--reason', 'welcome', '--idempotency-key', 'w1']);
  assert.is(repeat.code, 0);
  assert.match(repeat.lines[0]!, /nothing changed/);
  assert.is(repeat.last, '1012.500');
  const adjust = await run(['credits:adjust', '--email', 'ada@example.com', '--credits', '-2000', '--reason', 'too much']);
  assert.is(adjust.code, 0);
  assert.match(adjust.lines.join('\n'), /shortfall 987\.500/);
  assert.is(adjust.last, '0.000');
  const up = await run(['credits:adjust', '--email', 'ADA@example.com', '--credits', '+3.25', '--reason', 'goodwill']);
  assert.is(up.last, '3.250');
  const balance = await run(['balance', '--email', 'ada@example.com']);
  assert.is(balance.last, '3.250');
  assert.is(await ledgerRows(env), 3);
  const audit = await run(['audit']);
  assert.is(audit.code, 0);
  assert.is(audit.last, 'ok');
});

cli('bad arguments exit 2 with one line and write nothing', async ({ run, env }) => {
  await run(['user:create', '--email', 'bob@example.com', '--password', 'password1']);
  const cases: [string[], RegExp][] = [
    [['credits:grant', '--email', 'bob@example.com', '--credits', '0', '--reason', 'r'], /greater than 0/],
    [['credits:grant', '--email', 'bob@example.com', '--credits', '-5', '--reason', 'r'], /greater than 0/],
    [['credits:grant', '--email', 'bob@example.com', '--credits', '1.2345', '--reason', 'r'], /3 decimals/],
    [['credits:grant', '--email', 'bob@example.com', '--credits', '5'], /--reason is required/],
    [['credits:grant', '--email', 'nobody@example.com', '--credits', '5', '--reason', 'r'], /no user/],
    [['credits:grant', '--email', 'bob@example.com', '--credits', '5', '--reason', 'r', '--bogus'], /bogus/],
    [['credits:adjust', '--email', 'bob@example.com', '--credits', '0', '--reason', 'r'], /not be 0/],
    [['user:create', '--email', 'not-an-email', '--password', 'password1'], /email address/],
    [['user:create', '--email', 'c@example.com', '--password', 'short'], /at least 8/],
    [['user:create', '--email', 'BOB@example.com', '--password', 'password1'], /already exists/],
    [['rates:set', '--model', 'gpt-4o', '--input', 'x', '--output', '1'], /--input/],
    [['rates:set', '--model', 'gpt-4o', '--input', '1', '--output', '1', '--max-output', '0'], /--max-output/],
    [['backup'], /argument/],
    [['no-such-command'], /usage/],
  ];
  for (const [args, reason] of cases) {
    const result = await run(args);
    assert.is(result.code, 2, args.join(' '));
    assert.is(result.errors.length, 1, `one line for ${args.join(' ')}`);
    assert.match(result.errors[0]!, reason);
  }
  assert.is(await ledgerRows(env), 0);
  const users = await run(['balance', '--email', 'bob@example.com']);
  assert.is(users.last, '0.000');
});

cli('rates:set adds a version and rates:list shows the current card', async ({ run }) => {
  const before = await run(['rates:list']);
  assert.match(before.lines.join('\n'), /gpt-4o-mini\t1\tEco\t2\.400\t1\.200\t9\.600\t16384/);
  const set = await run(['rates:set', '--model', 'gpt-4o-mini', '--input', '3', '--output', '12.5', '--max-output', '8000']);
  assert.is(set.code, 0);
  assert.is(set.last, '2');
  const after = await run(['rates:list']);
  assert.match(after.lines.join('\n'), /gpt-4o-mini\t2\tEco\t3\.000\t1\.200\t12\.500\t8000/);
  assert.not.match(after.lines.join('\n'), /gpt-4o-mini\t1\t/);
  const added = await run(['rates:set', '--model', 'o3-mini', '--input', '1.1', '--output', '4.4', '--label', 'Reasoning']);
  assert.is(added.last, '1');
});

cli('audit exits 1 and prints the count when an invariant is broken', async ({ run, env }) => {
  await run(['user:create', '--email', 'eve@example.com', '--password', 'password1']);
  await run(['credits:grant', '--email', 'eve@example.com', '--credits', '10', '--reason', 'r']);
  const db = openTestDatabase(env.DATABASE_URL!);
  await sql`update wallets set balance_mc = 1`.execute(db);
  await db.destroy();
  const result = await run(['audit']);
  assert.is(result.code, 1);
  assert.is(result.last, '1');
  assert.match(result.lines[0]!, /invariant 1/);
});

// SQLite's online backup: on PostgreSQL backups are pg_dump's (the refusal is tested below).
sqliteOnly(cli)('backup writes a consistent copy that audits clean', async ({ run, dir }) => {
  await run(['user:create', '--email', 'dan@example.com', '--password', 'password1']);
  await run(['credits:grant', '--email', 'dan@example.com', '--credits', '42', '--reason', 'r']);
  const target = join(dir, 'copy.db');
  const result = await run(['backup', target]);
  assert.is(result.code, 0);
  assert.is(result.last, target);
  assert.ok(existsSync(target));
  const copy = await runCli(['balance', '--email', 'dan@example.com'], { env: { DATABASE_URL: `sqlite:${target}` }, out: () => {}, err: () => {} });
  assert.is(copy, 0);
});

cli('backup on PostgreSQL is refused before connecting, naming pg_dump, never the URL', async () => {
  const errors: string[] = [];
  const code = await runCli(['backup', '/tmp/never-written.db'], { env: { DATABASE_URL: 'postgres://tokentab:s3cret@127.0.0.1:1/tokentab' }, out: () => {}, err: (l) => errors.push(l) });
  assert.is(code, 2);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^backup: .*pg_dump/);
  assert.not.match(errors[0]!, /s3cret/);
  assert.not.ok(existsSync('/tmp/never-written.db'));
});

cli('npm run cli as a real process: exit codes and last line', async ({ dir }) => {
  const env = { ...process.env, DATABASE_URL: await emptyDatabaseUrl(dir, 'proc.db'), SQLITE_SYNCHRONOUS: 'normal' };
  const bad = spawnSync('npm', ['run', '--silent', 'cli', '--', 'credits:grant', '--email', 'x@example.com', '--credits', '0', '--reason', 'r'], { env, encoding: 'utf8' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /greater than 0/);
  const audit = spawnSync('npm', ['run', '--silent', 'cli', '--', 'audit'], { env, encoding: 'utf8' });
  assert.is(audit.status, 0);
  assert.is(audit.stdout.trim().split('\n').at(-1), 'ok');
});

cli.run();
