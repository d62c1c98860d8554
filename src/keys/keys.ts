// API keys: shown once at creation, stored only as a SHA-256, listed by prefix, revoked for good.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Updateable } from 'kysely';
import type { ApiKey, ApiKeysTable, User } from '../db/schema.ts';
import { hashToken, randomToken } from '../auth/tokens.ts';
import { rawFirst } from '../db/raw.ts';
import { assertKeyUsable, keyControlsOf, type KeyControls, storedList } from './controls.ts';
import { takeKeyRequest } from './request-rate.ts';

const KEY_PREFIX = 'tt_';
/** "tt_" and 8 characters: enough to tell keys apart, far too little to guess the rest. */
const SHOWN_PREFIX_LENGTH = 11;
/** last_used_at is written at most once a minute, so a busy key does not write on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;
export const MAX_KEY_NAME_LENGTH = 80;

export function keyNameProblem(name: string): string | null {
  if (name.trim() === '') return 'Give the key a name, such as the app that will use it.';
  if (name.trim().length > MAX_KEY_NAME_LENGTH) return `Use at most ${MAX_KEY_NAME_LENGTH} characters.`;
  return null;
}

export async function createApiKey(db: DB, clock: Clock, userId: number, name: string): Promise<{ key: string; apiKey: ApiKey }> {
  const key = `${KEY_PREFIX}${randomToken(24)}`;
  const apiKey = await db
    .insertInto('api_keys')
    .values({ user_id: userId, name: name.trim(), prefix: key.slice(0, SHOWN_PREFIX_LENGTH), key_hash: hashToken(key), created_at_ms: clock.now(), last_used_at_ms: null, revoked_at_ms: null })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { key, apiKey };
}

export async function listApiKeys(db: DB, userId: number): Promise<ApiKey[]> {
  return db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).orderBy('revoked_at_ms', 'desc').orderBy('id', 'desc').execute();
}

/** False when the key is not this user's (or does not exist): the caller answers 404 either way. */
export async function revokeApiKey(db: DB, clock: Clock, userId: number, keyId: number): Promise<boolean> {
  const owned = await db.selectFrom('api_keys').select(['id', 'revoked_at_ms']).where('id', '=', keyId).where('user_id', '=', userId).executeTakeFirst();
  if (!owned) return false;
  if (owned.revoked_at_ms === null) {
    await db.updateTable('api_keys').set({ revoked_at_ms: clock.now() }).where('id', '=', keyId).execute();
  }
  return true;
}

/** A call with no key, or with one that is unknown or revoked: nothing runs. */
export class ApiKeyRefusedError extends Error {
  override name = 'ApiKeyRefusedError';
  constructor(readonly keySent: boolean) {
    super(keySent ? 'unknown or revoked API key' : 'no API key sent');
  }
}

/** The key's owner was disabled by an admin (src/admin/user-actions.ts): no call runs until re-enabled. */
export class AccountDisabledError extends Error {
  override name = 'AccountDisabledError';
  constructor() {
    super('the account is disabled');
  }
}

/** The key a request came with, as the routes behind it need it. */
export interface CallingKey {
  id: number;
  /** null: every model on the rate card. */
  allowedModels: readonly string[] | null;
  /** The key's last moment (its last day's end, UTC); null: it never expires. */
  expiresAtMs: number | null;
}

export interface KeyCaller {
  apiKey: CallingKey;
  user: User;
}

interface KeyRow {
  api_key_id: number;
  api_key_last_used_at_ms: number | null;
  allowed_models: string | null;
  allowed_cidrs: string | null;
  expires_at_ms: number | null;
  requests_per_minute: number | null;
}

/**
 * The key's owner and the key, or null for an unknown or revoked key. A known key is then checked
 * against its owner (AccountDisabledError) and its controls (src/keys/controls.ts), throwing ApiKeyExpiredError, IpNotAllowedError or
 * KeyRateLimitedError; only a request let through counts as the key's use (last_used_at).
 */
export async function authenticateApiKey(db: DB, clock: Clock, key: string, clientAddress: string): Promise<KeyCaller | null> {
  if (!key.startsWith(KEY_PREFIX)) return null;
  // Every API call starts here: one fixed statement for the key and its owner, no query building.
  const row = await rawFirst<User & KeyRow>(
    db,
    `select u.*, k.id as api_key_id, k.last_used_at_ms as api_key_last_used_at_ms,
      k.allowed_models, k.allowed_cidrs, k.expires_at_ms, k.requests_per_minute
    from api_keys k join users u on u.id = k.user_id where k.key_hash = ? and k.revoked_at_ms is null`,
    [hashToken(key)],
  );
  if (!row) return null;
  if (row.disabled_at_ms !== null) throw new AccountDisabledError();
  const { api_key_id: apiKeyId, api_key_last_used_at_ms: lastUsedAtMs, allowed_models, allowed_cidrs, expires_at_ms, requests_per_minute, ...user } = row;
  const controls = keyControlsOf({ allowed_models, allowed_cidrs, expires_at_ms, requests_per_minute });
  assertKeyUsable(controls, clock.now(), clientAddress);
  await takeKeyRequest(db, clock, apiKeyId, controls.requestsPerMinute);
  const nowMs = clock.now();
  if (lastUsedAtMs === null || nowMs - lastUsedAtMs >= LAST_USED_RESOLUTION_MS) {
    await db.updateTable('api_keys').set({ last_used_at_ms: nowMs }).where('id', '=', apiKeyId).execute();
  }
  return { apiKey: { id: apiKeyId, allowedModels: controls.allowedModels, expiresAtMs: controls.expiresAtMs }, user };
}

export const MAX_MAX_IN_FLIGHT = 1_000;

export interface KeyLimits {
  /** null: no monthly limit. */
  monthlyLimitMc: number | null;
  maxInFlight: number;
}

/** Writes some of a key's columns; false when the key is not this user's (the caller answers 404). */
async function updateOwnKey(db: DB, userId: number, keyId: number, values: Updateable<ApiKeysTable>): Promise<boolean> {
  const result = await db.updateTable('api_keys').set(values).where('id', '=', keyId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function setKeyLimits(db: DB, userId: number, keyId: number, limits: KeyLimits): Promise<boolean> {
  return updateOwnKey(db, userId, keyId, { monthly_limit_mc: limits.monthlyLimitMc, max_in_flight: limits.maxInFlight });
}

export function setKeyControls(db: DB, userId: number, keyId: number, controls: KeyControls): Promise<boolean> {
  return updateOwnKey(db, userId, keyId, {
    allowed_models: storedList(controls.allowedModels),
    allowed_cidrs: storedList(controls.allowedCidrs),
    expires_at_ms: controls.expiresAtMs,
    requests_per_minute: controls.requestsPerMinute,
  });
}
