// Key controls: the models a key may call, the client addresses it may be used from (CIDRs), when it
// expires and how many requests it may make a minute; how they are stored (JSON lists of strings in
// text columns, null for "no restriction") and how a key's use is checked against them.
import { BlockList, isIP } from 'node:net';
import { LRUCache } from 'lru-cache';

export const MAX_ALLOWED_MODELS = 50;
export const MAX_ALLOWED_CIDRS = 50;
export const MAX_REQUESTS_PER_MINUTE = 10_000;
/** Longer than any model name on a rate card; bounds what a stored list can hold. */
export const MAX_MODEL_NAME_LENGTH = 100;
/** "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" is 49 characters. */
const MAX_CIDR_LENGTH = 64;

export interface KeyControls {
  /** null: every model on the rate card. */
  allowedModels: readonly string[] | null;
  /** Canonical CIDRs ("203.0.113.0/24", "2001:db8::/32"); null: any address. */
  allowedCidrs: readonly string[] | null;
  /** From this instant the key is refused; null: never. */
  expiresAtMs: number | null;
  /** null: no limit. */
  requestsPerMinute: number | null;
}

export const NO_CONTROLS: KeyControls = Object.freeze({ allowedModels: null, allowedCidrs: null, expiresAtMs: null, requestsPerMinute: null });

/** A key used after its expiry: 401 key_expired. */
export class ApiKeyExpiredError extends Error {
  override name = 'ApiKeyExpiredError';
  constructor(readonly expiresAtMs: number) {
    super('the API key has expired');
  }
}

/** A key used from an address outside its allowlist: 403 ip_not_allowed. */
export class IpNotAllowedError extends Error {
  override name = 'IpNotAllowedError';
  constructor(readonly address: string) {
    super('the client address is not on the API key’s allowlist');
  }
}

/** A key past its requests per minute: 429 rate_limited with Retry-After. */
export class KeyRateLimitedError extends Error {
  override name = 'KeyRateLimitedError';
  constructor(
    readonly requestsPerMinute: number,
    readonly retryAfterSeconds: number,
  ) {
    super('the API key is over its requests per minute');
  }
}

/** A list column as written: JSON, or null for "no restriction". */
export function storedList(list: readonly string[] | null): string | null {
  return list === null ? null : JSON.stringify(list);
}

/** A list column as read. Only storedList writes it, so anything else is a broken row, not input. */
export function readStoredList(text: string | null): string[] | null {
  if (text === null) return null;
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw new Error('an API key control list is not a JSON list of strings');
  return list;
}

/** The stored columns of a key as its controls. */
export function keyControlsOf(row: { allowed_models: string | null; allowed_cidrs: string | null; expires_at_ms: number | null; requests_per_minute: number | null }): KeyControls {
  return {
    allowedModels: readStoredList(row.allowed_models),
    allowedCidrs: readStoredList(row.allowed_cidrs),
    expiresAtMs: row.expires_at_ms === null ? null : Number(row.expires_at_ms),
    requestsPerMinute: row.requests_per_minute === null ? null : Number(row.requests_per_minute),
  };
}

/** An address without an IPv6 zone ("fe80::1%eth0"), which names an interface, not a host. */
function withoutZone(address: string): string {
  const zone = address.indexOf('%');
  return zone === -1 ? address : address.slice(0, zone);
}

/**
 * A CIDR ("10.0.0.0/8", "2001:db8::/32") or a single address (its /32 or /128) in the canonical form
 * it is stored and shown in (lower case, always with its prefix); null when it is neither.
 */
export function canonicalCidr(text: string): string | null {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === '' || trimmed.length > MAX_CIDR_LENGTH) return null;
  const slash = trimmed.indexOf('/');
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const family = isIP(address);
  if (family === 0 || address.includes('%')) return null;
  const bits = family === 4 ? 32 : 128;
  if (slash === -1) return `${address}/${bits}`;
  const prefixText = trimmed.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return null;
  return `${address}/${Number(prefixText)}`;
}

/**
 * Built once per distinct list: a key's allowlist is checked on every one of its requests. At most
 * 1,000 lists and 4 MiB, least recently used dropped first, a list counted as its text (2 bytes a
 * character) and 256 bytes a range (docs/architecture.md, Caches).
 */
const blockLists = new LRUCache<string, BlockList>({ max: 1_000, maxSize: 4 * 1024 * 1024, sizeCalculation: (_list, key) => 2 * key.length + 256 * (key.split(',').length + 1) });

function blockListOf(cidrs: readonly string[]): BlockList {
  const cacheKey = cidrs.join(',');
  const cached = blockLists.get(cacheKey);
  if (cached) return cached;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/') as [string, string];
    list.addSubnet(address, Number(prefix), isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
  blockLists.set(cacheKey, list);
  return list;
}

/**
 * Whether `address` is inside one of `cidrs`. BlockList matches an IPv4-mapped IPv6 address
 * ("::ffff:203.0.113.7", as a dual-stack socket reports IPv4 clients) against IPv4 ranges and the
 * other way round. An address that is not an IP (no socket address known) is never allowed.
 */
export function addressAllowed(cidrs: readonly string[], address: string): boolean {
  const bare = withoutZone(address.trim());
  const family = isIP(bare);
  if (family === 0) return false;
  return blockListOf(cidrs).check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The checks made when the key is presented, before anything else runs: expired (at or after its
 * instant), then used from an address outside its allowlist. Requests per minute are counted in the
 * database (request-rate.ts); the model is checked by the gateway once the body is read.
 */
export function assertKeyUsable(controls: KeyControls, nowMs: number, clientAddress: string): void {
  if (controls.expiresAtMs !== null && nowMs >= controls.expiresAtMs) throw new ApiKeyExpiredError(controls.expiresAtMs);
  if (controls.allowedCidrs !== null && !addressAllowed(controls.allowedCidrs, clientAddress)) throw new IpNotAllowedError(clientAddress);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A key set to expire on a date works through that whole UTC day: it expires when the next begins. */
export function expiryOfLastDay(date: { year: number; month: number; day: number }): number {
  return Date.UTC(date.year, date.month - 1, date.day) + DAY_MS;
}

/** The last UTC day a key works ("2026-12-31"), as the keys page and the refusal name it. */
export function lastDayOf(expiresAtMs: number): string {
  return new Date(expiresAtMs - 1).toISOString().slice(0, 10);
}
