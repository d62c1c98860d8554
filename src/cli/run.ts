// The operator's command line (README, Command line): parse and check every argument before the database is
// opened, so bad arguments exit 2 with one line and write nothing; the value a script needs is
// alone on the last line; a failed check exits 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, ConfigError } from '../config.ts';
import { systemClock, type Clock } from '../clock.ts';
import { openDatabase, type DB } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { seedDefaults } from '../seed.ts';
import { installLedgerPolicy } from '../ledger/policy.ts';
import { spendingPolicy } from '../spending-policy/policy.ts';
import { commands, UsageError, type CliIO } from './commands.ts';

export interface CliDeps {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  readStdin?: () => Promise<string>;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `--credits -5` reads as a value, not as an unknown flag `-5` (parseArgs wants `--credits=-5`). */
function joinNegativeNumbers(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i]!.startsWith('--') && !args[i]!.includes('=') && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else joined.push(args[i]!);
  }
  return joined;
}

export async function runCli(argv: string[], deps: CliDeps = {}): Promise<number> {
  const out = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = deps.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const [name, ...rest] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    err(`usage: npm run cli -- COMMAND [--flags]; commands: ${Object.keys(commands).join(', ')}`);
    return 2;
  }
  let db: DB | null = null;
  try {
    const config = loadConfig(deps.env ?? process.env);
    const { values, positionals } = parseArgs({
      args: joinNegativeNumbers(rest),
      options: command.options as ParseArgsConfig['options'],
      allowPositionals: command.positionals > 0,
      strict: true,
    });
    if (positionals.length !== command.positionals) throw new UsageError(`${name} takes ${command.positionals} argument(s)`);
    const io: CliIO = { out, readStdin: deps.readStdin ?? readAllStdin };
    const prepared = await command.prepare(values as Record<string, string | boolean | undefined>, positionals, io, config);
    // Commands that grant, adjust or reconcile write through the ledger (src/ledger/policy.ts).
    installLedgerPolicy(spendingPolicy);
    db = openDatabase(config.database);
    const clock = deps.clock ?? systemClock;
    await migrateToLatest(db);
    await seedDefaults(db, clock);
    return await prepared({ db, clock, config, io });
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`${name}: ${(error as Error).message.split('\n')[0]}`);
      return 2;
    }
    err(`${name} failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await db?.destroy();
  }
}
