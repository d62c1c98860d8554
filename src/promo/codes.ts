// Redemption codes (docs/architecture.md, Promo credits): making a batch, and redeeming one code
// exactly once per user and never past its limit, whoever races. The grant it makes, its spending
// and its expiry are the ledger's (src/ledger/promo-grants.ts). Knows nothing about HTTP: the CLI and
// the pages (and the operator console) call these.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { PromoGrant } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { rawFirst, rawInsert, rawRun } from '../db/raw.ts';
import { creditPromoGrantIn } from '../ledger/promo-grants.ts';
import { DAY_MS } from '../month.ts';

/** Crockford's base32 (no I, L, O or U): nothing to misread when a code is typed from paper. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 16 characters of 5 bits: 80 random bits, far beyond guessing (a redemption costs a request). */
const CODE_LENGTH = 16;
/** A code as typed may carry dashes and spaces; anything longer than this is not one of ours. */
export const MAX_CODE_INPUT_LENGTH = 64;

/** Bounds on a batch, checked before anything is written. */
export const PROMO_LIMITS = {
  maxCreditsMc: 1_000_000_000,
  maxCodes: 10_000,
  maxRedemptions: 1_000_000,
  maxDays: 3650,
} as const;

export interface PromoBatchInput {
  /** Credits each redemption grants. */
  creditsMc: number;
  codes: number;
  /** How many users may redeem each code (once each). */
  redemptions: number;
  /** How long the granted credits last, from the moment of redemption. */
  creditsLastDays: number;
  /** How long the codes can be redeemed, from now. */
  validDays: number;
}

export interface PromoBatch {
  batch: string;
  /** The codes as a user types them (four dash-separated groups of four characters): shown once, only their hashes are kept. */
  codes: string[];
  validUntilMs: number;
}

/** Why a batch's parameters were refused, naming the one at fault. */
export class PromoBatchInvalidError extends Error {
  override name = 'PromoBatchInvalidError';
  constructor(readonly param: keyof PromoBatchInput, message: string) {
    super(message);
  }
}

export type PromoRefusal = 'malformed' | 'unknown' | 'expired' | 'used_up' | 'already_redeemed';

/** A code that grants nothing, and why. Nothing was written. */
export class PromoCodeRefusedError extends Error {
  override name = 'PromoCodeRefusedError';
  constructor(readonly reason: PromoRefusal) {
    super(`promo code refused: ${reason}`);
  }
}

function randomCode(): string {
  const bytes = randomBytes(CODE_LENGTH);
  // 256 is a multiple of 32, so byte % 32 is uniform.
  let code = '';
  for (const byte of bytes) code += ALPHABET[byte % 32];
  return code;
}

/** The code as stored and compared: upper case, without the dashes and spaces it is shown and typed with. */
export function normalizedCode(typed: string): string | null {
  if (typed.length > MAX_CODE_INPUT_LENGTH) return null;
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  return code.length === CODE_LENGTH && [...code].every((char) => ALPHABET.includes(char)) ? code : null;
}

/**
 * Codes are kept as SHA-256 of their normalised text: a backup or a copy of the database hands out no
 * credits. 80 random bits need no salt or slow hash (nothing to brute-force), and an exact hash is
 * what lets the UNIQUE index find a code in one lookup.
 */
function codeHash(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

const displayed = (code: string) => code.match(/.{4}/g)!.join('-');

function checkWhole(param: keyof PromoBatchInput, value: number, min: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new PromoBatchInvalidError(param, `${param} must be ${what} from ${min} to ${max}, got ${value}`);
}

/** Makes a batch of codes; each grants `creditsMc` to up to `redemptions` users until the codes' end. */
export async function createPromoCodes(db: DB, clock: Clock, input: PromoBatchInput): Promise<PromoBatch> {
  checkWhole('creditsMc', input.creditsMc, 1, PROMO_LIMITS.maxCreditsMc, 'a whole number of millicredits');
  checkWhole('codes', input.codes, 1, PROMO_LIMITS.maxCodes, 'a whole number');
  checkWhole('redemptions', input.redemptions, 1, PROMO_LIMITS.maxRedemptions, 'a whole number');
  checkWhole('creditsLastDays', input.creditsLastDays, 1, PROMO_LIMITS.maxDays, 'a whole number of days');
  checkWhole('validDays', input.validDays, 1, PROMO_LIMITS.maxDays, 'a whole number of days');
  const nowMs = clock.now();
  const batch = randomUUID();
  const validUntilMs = nowMs + input.validDays * DAY_MS;
  const codes = Array.from({ length: input.codes }, randomCode);
  await writeTransaction(db, async (trx) => {
    for (const code of codes) {
      await rawInsert(
        trx,
        'insert into promo_codes (code_hash, code_hint, batch, credits_mc, credits_last_ms, max_redemptions, valid_until_ms, created_at_ms) values (?, ?, ?, ?, ?, ?, ?, ?)',
        [codeHash(code), code.slice(-4), batch, input.creditsMc, input.creditsLastDays * DAY_MS, input.redemptions, validUntilMs, nowMs],
      );
    }
  });
  return { batch, codes: codes.map(displayed), validUntilMs };
}

interface CodeRow {
  id: number;
  code_hint: string;
  credits_mc: number;
  credits_last_ms: number;
  valid_until_ms: number;
}

/**
 * Redeems `typed` for the user: one transaction that records the grant (UNIQUE per code and user, so
 * a user's second redemption, even a concurrent one, writes nothing), admits it against the code's
 * limit by one guarded update (… WHERE redemptions < max_redemptions: of ten users racing for the
 * last redemption one passes, on SQLite and PostgreSQL alike, the others find it used up and roll
 * back their grant), and credits it. Refused codes throw PromoCodeRefusedError with nothing written.
 */
export async function redeemPromoCode(db: DB, clock: Clock, userId: number, typed: string): Promise<PromoGrant> {
  const code = normalizedCode(typed);
  if (code === null) throw new PromoCodeRefusedError('malformed');
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    const row = await rawFirst<CodeRow>(trx, 'select id, code_hint, credits_mc, credits_last_ms, valid_until_ms from promo_codes where code_hash = ?', [codeHash(code)]);
    if (!row) throw new PromoCodeRefusedError('unknown');
    if (Number(row.valid_until_ms) <= nowMs) throw new PromoCodeRefusedError('expired');
    const grant = await creditPromoGrantIn(trx, nowMs, {
      userId,
      codeId: row.id,
      amountMc: Number(row.credits_mc),
      expiresAtMs: nowMs + Number(row.credits_last_ms),
      reference: `promo code …${row.code_hint}`,
    });
    if (!grant) throw new PromoCodeRefusedError('already_redeemed');
    const admitted = await rawRun(trx, 'update promo_codes set redemptions = redemptions + 1 where id = ? and redemptions < max_redemptions', [row.id]);
    // Thrown after the credit: the transaction rolls back, grant and entry with it.
    if (admitted === 0) throw new PromoCodeRefusedError('used_up');
    return grant;
  });
}
