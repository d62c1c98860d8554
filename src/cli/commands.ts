// Each CLI command: its flags, a prepare step that checks them (throwing UsageError, nothing
// written), and the work it then does against the database.
import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import { rawSqlite, type DB } from '../db/connect.ts';
import { hashPassword } from '../auth/password.ts';
import { passwordProblem } from '../auth/hasher.ts';
import { runAudit } from '../audit-runs.ts';
import { adjustCredits, grantCredits } from '../ledger/credits.ts';
import { walletSummary } from '../ledger/wallet.ts';
import { createApiKey, keyNameProblem } from '../keys/keys.ts';
import { creditsExactText, parseCreditsToMc } from '../money-text.ts';
import { currentRates, MODEL_ID_PATTERN, setRate } from '../pricing/rates.ts';
import { createUser, EmailTakenError, findUserByEmail, isPlausibleEmail } from '../users/users.ts';
import { billingDeps } from '../billing/deps.ts';
import { reconcilePurchases, RECONCILE_DEFAULT_HOURS } from '../billing/reconcile.ts';
import { dbCopy } from './db-copy.ts';
import { createPromoCodes, PromoBatchInvalidError } from '../promo/codes.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliIO {
  out: (line: string) => void;
  readStdin: () => Promise<string>;
}

export interface Context {
  db: DB;
  clock: Clock;
  config: Config;
  io: CliIO;
}

export type Values = Record<string, string | boolean | undefined>;
export type Work = (context: Context) => Promise<number>;

export interface Command {
  options: Record<string, { type: 'string' | 'boolean' }>;
  positionals: number;
  /** Checks everything it can before the database is opened; `config` is already loaded. */
  prepare: (values: Values, positionals: string[], io: CliIO, config: Config) => Promise<Work>;
}

function required(values: Values, flag: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${flag} is required`);
  return value.trim();
}

function email(values: Values): string {
  const value = required(values, 'email');
  if (!isPlausibleEmail(value)) throw new UsageError(`--email must be an email address, got "${value}"`);
  return value;
}

function credits(values: Values, flag: string): number {
  const text = required(values, flag);
  const mc = parseCreditsToMc(text);
  if (mc === null) throw new UsageError(`--${flag} must be a number of credits with at most 3 decimals, got "${text}"`);
  return mc;
}

function optionalText(values: Values, flag: string): string | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${flag} must not be empty`);
  return value.trim();
}

function positiveInteger(values: Values, flag: string): number | undefined {
  const text = optionalText(values, flag);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${flag} must be a whole number ≥ 1, got "${text}"`);
  }
  return Number(text);
}

async function userId(db: DB, address: string): Promise<number> {
  const user = await findUserByEmail(db, address);
  if (!user) throw new UsageError(`no user with email ${address}`);
  return user.id;
}

const userCreate: Command = {
  options: { email: { type: 'string' }, password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, admin: { type: 'boolean' } },
  positionals: 0,
  async prepare(values, _positionals, io) {
    const address = email(values);
    if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both');
    let password: string;
    if (values['password-stdin']) password = (await io.readStdin()).replace(/\r?\n$/, '');
    else if (typeof values.password === 'string') password = values.password;
    else throw new UsageError('--password or --password-stdin is required');
    const problem = passwordProblem(password);
    if (problem) throw new UsageError(`--password: ${problem}`);
    return async ({ db, clock, io }) => {
      const passwordHash = await hashPassword(password);
      try {
        const user = await createUser(db, clock, { email: address, passwordHash, isAdmin: values.admin === true });
        io.out(`created user ${user.email}${user.is_admin ? ' (admin)' : ''}`);
        io.out(String(user.id));
        return 0;
      } catch (error) {
        if (error instanceof EmailTakenError) throw new UsageError(error.message);
        throw error;
      }
    };
  },
};

const creditsGrant: Command = {
  options: { email: { type: 'string' }, credits: { type: 'string' }, reason: { type: 'string' }, 'idempotency-key': { type: 'string' } },
  positionals: 0,
  async prepare(values) {
    const address = email(values);
    const amountMc = credits(values, 'credits');
    if (amountMc <= 0) throw new UsageError('--credits must be greater than 0 for a grant');
    const reason = required(values, 'reason');
    const idempotencyKey = optionalText(values, 'idempotency-key');
    return async ({ db, clock, io }) => {
      const result = await grantCredits(db, clock, { userId: await userId(db, address), amountMc, reason, idempotencyKey });
      io.out(result.duplicate ? `already granted under key ${idempotencyKey}; nothing changed` : `granted ${creditsExactText(amountMc)} credits`);
      io.out(creditsExactText(result.balanceMc));
      return 0;
    };
  },
};

const creditsAdjust: Command = {
  options: creditsGrant.options,
  positionals: 0,
  async prepare(values) {
    const address = email(values);
    const amountMc = credits(values, 'credits');
    if (amountMc === 0) throw new UsageError('--credits must not be 0 for an adjustment');
    const reason = required(values, 'reason');
    const idempotencyKey = optionalText(values, 'idempotency-key');
    return async ({ db, clock, io }) => {
      const result = await adjustCredits(db, clock, { userId: await userId(db, address), amountMc, reason, idempotencyKey });
      if (result.duplicate) io.out(`already adjusted under key ${idempotencyKey}; nothing changed`);
      else io.out(`adjusted by ${creditsExactText(result.entry.amount_mc)} credits`);
      if (!result.duplicate && result.entry.shortfall_mc > 0) {
        io.out(`shortfall ${creditsExactText(result.entry.shortfall_mc)} credits: the balance (less what calls hold) could not go lower`);
      }
      io.out(creditsExactText(result.balanceMc));
      return 0;
    };
  },
};

const balance: Command = {
  options: { email: { type: 'string' } },
  positionals: 0,
  async prepare(values) {
    const address = email(values);
    return async ({ db, io }) => {
      const wallet = await walletSummary(db, await userId(db, address));
      io.out(`available ${creditsExactText(wallet.availableMc)} · held ${creditsExactText(wallet.heldMc)} by ${wallet.heldCalls} calls`);
      io.out(creditsExactText(wallet.balanceMc));
      return 0;
    };
  },
};

const ratesList: Command = {
  options: {},
  positionals: 0,
  async prepare() {
    return async ({ db, io }) => {
      io.out('model\tversion\tlabel\tinput\tcached_input\toutput\tmax_output_tokens\tupdated (UTC)   (credits per 1k tokens)');
      for (const r of await currentRates(db)) {
        io.out(
          [r.model, r.version, r.label, creditsExactText(r.input_mc_per_1k), creditsExactText(r.cached_input_mc_per_1k), creditsExactText(r.output_mc_per_1k), r.max_output_tokens, new Date(r.created_at_ms).toISOString()].join('\t'),
        );
      }
      return 0;
    };
  },
};

const ratesSet: Command = {
  options: { model: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' }, cached: { type: 'string' }, 'max-output': { type: 'string' }, label: { type: 'string' } },
  positionals: 0,
  async prepare(values) {
    const model = required(values, 'model');
    if (!MODEL_ID_PATTERN.test(model)) throw new UsageError(`--model must be a model id (letters, digits, . _ : / -), got "${model}"`);
    const rate = (flag: string) => {
      const mc = credits(values, flag);
      if (mc < 0) throw new UsageError(`--${flag} must not be negative`);
      return mc;
    };
    const inputMcPer1k = rate('input');
    const outputMcPer1k = rate('output');
    const cachedInputMcPer1k = values.cached === undefined ? undefined : rate('cached');
    const maxOutputTokens = positiveInteger(values, 'max-output');
    const label = optionalText(values, 'label');
    return async ({ db, clock, io }) => {
      const r = await setRate(db, clock, { model, inputMcPer1k, outputMcPer1k, cachedInputMcPer1k, maxOutputTokens, label });
      io.out(`${r.model} version ${r.version} (${r.label}): input ${creditsExactText(r.input_mc_per_1k)}, cached ${creditsExactText(r.cached_input_mc_per_1k)}, output ${creditsExactText(r.output_mc_per_1k)} credits per 1k; max output ${r.max_output_tokens}`);
      io.out(String(r.version));
      return 0;
    };
  },
};

const auditCommand: Command = {
  options: {},
  positionals: 0,
  async prepare() {
    return async ({ db, clock, io }) => {
      const violations = await runAudit(db, clock, 'cli');
      for (const v of violations) io.out(`invariant ${v.invariant}: ${v.detail}`);
      io.out(violations.length === 0 ? 'ok' : String(violations.length));
      return violations.length === 0 ? 0 : 1;
    };
  },
};

const backup: Command = {
  options: {},
  positionals: 1,
  async prepare(_values, positionals, _io, config) {
    const path = positionals[0]!;
    if (config.database.backend === 'postgres') {
      throw new UsageError('backup copies a SQLite database; on PostgreSQL back up with pg_dump (README, Back up)');
    }
    return async ({ db, io }) => {
      // better-sqlite3's online backup copies pages while the app keeps serving.
      await rawSqlite(db).backup(path);
      io.out(path);
      return 0;
    };
  },
};

const keyCreate: Command = {
  options: { email: { type: 'string' }, name: { type: 'string' } },
  positionals: 0,
  async prepare(values) {
    const address = email(values);
    const name = required(values, 'name');
    const problem = keyNameProblem(name);
    if (problem) throw new UsageError(`--name: ${problem}`);
    return async ({ db, clock, io }) => {
      const { key, apiKey } = await createApiKey(db, clock, await userId(db, address), name);
      io.out(`created key "${apiKey.name}" (${apiKey.prefix}…) for ${address}; it is shown only once:`);
      io.out(key);
      return 0;
    };
  },
};

const mailList: Command = {
  options: { limit: { type: 'string' } },
  positionals: 0,
  async prepare(values) {
    const limit = positiveInteger(values, 'limit') ?? 10;
    return async ({ db, io }) => {
      const mails = await db.selectFrom('mail_outbox').selectAll().orderBy('id', 'desc').limit(limit).execute();
      for (const mail of mails.reverse()) {
        io.out(`#${mail.id} ${new Date(mail.created_at_ms).toISOString()} ${mail.status} (${mail.attempts} attempts) to ${mail.to_address}`);
        io.out(`Subject: ${mail.subject}`);
        io.out(mail.body_text);
        io.out('---');
      }
      io.out(String(mails.length));
      return 0;
    };
  },
};

const reconcile: Command = {
  options: { since: { type: 'string' } },
  positionals: 0,
  async prepare(values) {
    const sinceHours = positiveInteger(values, 'since') ?? RECONCILE_DEFAULT_HOURS;
    return async ({ db, clock, config, io }) => {
      const deps = billingDeps(config, db, clock, io.out);
      if (!deps) {
        io.out('payments are off (PAYMENTS=off): nothing to reconcile');
        io.out('0');
        return 0;
      }
      const result = await reconcilePurchases(deps, clock.now() - sinceHours * 3_600_000);
      for (const session of result.fulfilled) io.out(`credited ${session}`);
      for (const session of result.expired) io.out(`expired ${session}`);
      io.out(`${result.checked} purchase(s) here looked up (paid Checkout Sessions of the last ${sinceHours} h, pending auto-recharges, and purchases left at checkout); ${result.fulfilled.length} were not credited yet and now are`);
      io.out(String(result.fulfilled.length));
      return 0;
    };
  },
};

const BATCH_FLAGS = { codes: 'codes', redemptions: 'redemptions', creditsLastDays: 'credits-last-days', validDays: 'valid-days', creditsMc: 'credits' } as const;

const promoCreate: Command = {
  options: { credits: { type: 'string' }, codes: { type: 'string' }, redemptions: { type: 'string' }, 'credits-last-days': { type: 'string' }, 'valid-days': { type: 'string' } },
  positionals: 0,
  async prepare(values) {
    const creditsMc = credits(values, 'credits');
    const whole = (flag: string) => {
      const value = positiveInteger(values, flag);
      if (value === undefined) throw new UsageError(`--${flag} is required`);
      return value;
    };
    const input = { creditsMc, codes: whole('codes'), redemptions: whole('redemptions'), creditsLastDays: whole('credits-last-days'), validDays: whole('valid-days') };
    return async ({ db, clock, io }) => {
      try {
        // The codes alone, one per line, so the output can be piped to a file; they are shown only now.
        for (const code of (await createPromoCodes(db, clock, input)).codes) io.out(code);
        return 0;
      } catch (error) {
        if (error instanceof PromoBatchInvalidError) throw new UsageError(`--${BATCH_FLAGS[error.param]}: ${error.message}`);
        throw error;
      }
    };
  },
};

export const commands: Record<string, Command> = {
  'key:create': keyCreate,
  'mail:list': mailList,
  'user:create': userCreate,
  'credits:grant': creditsGrant,
  'credits:adjust': creditsAdjust,
  balance,
  'rates:list': ratesList,
  'rates:set': ratesSet,
  audit: auditCommand,
  reconcile,
  backup,
  'db:copy': dbCopy,
  'promo:create': promoCreate,
};
