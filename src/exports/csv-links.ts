// CSV links (README, The Credits tab): a URL that grants one export (usage or ledger) with its exact
// filters to a tool that cannot send a header (a sheet's IMPORTDATA, Excel's web query). The URL is the
// export's own, plus `link=<id>.<secret>`; only a SHA-256 of the secret is stored, and the stored query
// must equal the fetched one parameter for parameter, so a changed filter, date or path is refused.
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { CsvLink } from '../db/schema.ts';
import { lockNames } from '../db/locks.ts';
import { writeTransaction } from '../db/transaction.ts';
import { hashToken, randomToken } from '../auth/tokens.ts';

export type CsvExportKind = CsvLink['export_kind'];
export const CSV_EXPORT_KINDS: readonly CsvExportKind[] = ['usage', 'ledger'];

/** How long a new link works, in days: the choices offered, and the default. */
export const CSV_LINK_DAYS = [1, 7, 30, 90] as const;
export const CSV_LINK_DEFAULT_DAYS = 30;
/** Links a user may have live (not revoked, not expired) at once. */
export const MAX_LIVE_CSV_LINKS = 50;
/** The longest query a link may carry: filters are a few short values. */
export const MAX_CSV_LINK_QUERY_CHARS = 1_000;

/** The query parameter that carries `<id>.<secret>`. */
export const CSV_LINK_PARAM = 'link';

const DAY_MS = 86_400_000;

/** Creating one more link would pass MAX_LIVE_CSV_LINKS. */
export class CsvLinkLimitError extends Error {
  override name = 'CsvLinkLimitError';
  constructor() {
    super(`You have ${MAX_LIVE_CSV_LINKS} CSV links that still work: revoke one on the API keys page first.`);
  }
}

/** The export's path: a link grants this path and no other. */
export const csvExportPath = (kind: CsvExportKind) => `/credits/${kind}.csv`;

/**
 * A new link for `query` (canonical, without "?"), working `days` days from now. Returns the token
 * for the URL; it is not kept anywhere. Throws CsvLinkLimitError at the cap.
 */
export async function createCsvLink(db: DB, clock: Clock, link: { userId: number; kind: CsvExportKind; query: string; days: number }): Promise<{ id: number; token: string; expiresAtMs: number }> {
  const secret = randomToken();
  const nowMs = clock.now();
  const expiresAtMs = nowMs + link.days * DAY_MS;
  return writeTransaction(db, async (trx) => {
    // Counted and inserted under one lock per user, so parallel creates cannot pass the cap together.
    await lockNames(trx, [`csv_links:${link.userId}`]);
    const live = await trx
      .selectFrom('csv_links')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', link.userId)
      .where('revoked_at_ms', 'is', null)
      .where('expires_at_ms', '>', nowMs)
      .executeTakeFirstOrThrow();
    if (Number(live.n) >= MAX_LIVE_CSV_LINKS) throw new CsvLinkLimitError();
    const row = await trx
      .insertInto('csv_links')
      .values({ user_id: link.userId, export_kind: link.kind, query: link.query, secret_hash: hashToken(secret), created_at_ms: nowMs, expires_at_ms: expiresAtMs })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), token: `${row.id}.${secret}`, expiresAtMs };
  });
}

/** The user's links that still work, newest first (at most MAX_LIVE_CSV_LINKS). */
export function listCsvLinks(db: DB, clock: Clock, userId: number): Promise<CsvLink[]> {
  return db
    .selectFrom('csv_links')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at_ms', 'is', null)
    .where('expires_at_ms', '>', clock.now())
    .orderBy('created_at_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(MAX_LIVE_CSV_LINKS)
    .execute();
}

/** Revokes one of the user's links; false when it is not theirs or already revoked. */
export async function revokeCsvLink(db: DB, clock: Clock, userId: number, linkId: number): Promise<boolean> {
  const result = await db
    .updateTable('csv_links')
    .set({ revoked_at_ms: clock.now() })
    .where('id', '=', linkId)
    .where('user_id', '=', userId)
    .where('revoked_at_ms', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Why a fetch with a link is refused: not a link of ours or not for this request (forbidden), or no longer working (gone). */
export type CsvLinkRefusal = { kind: 'forbidden'; message: string } | { kind: 'gone'; message: string };

/** Name/value pairs in a fixed order, so two queries compare whatever order a tool writes them in. */
function pairs(params: URLSearchParams): string[] {
  return [...params].map(([name, value]) => `${name}=${value}`).sort();
}

/**
 * Who a fetch of `path` with these query parameters (the link's own among them) is for, or why it is
 * refused. The link must be ours (id and secret), for this path, and for exactly these parameters; then
 * unrevoked and unexpired. A use is recorded as the link's last use.
 */
export async function checkCsvLink(db: DB, clock: Clock, path: string, params: URLSearchParams): Promise<{ ok: true; userId: number; linkId: number } | { ok: false; refusal: CsvLinkRefusal }> {
  const refuse = (kind: CsvLinkRefusal['kind'], message: string) => ({ ok: false as const, refusal: { kind, message } });
  const tokens = params.getAll(CSV_LINK_PARAM);
  const match = tokens.length === 1 ? /^(\d{1,15})\.([a-z2-7]{32})$/.exec(tokens[0]!) : null;
  if (!match) return refuse('forbidden', 'This link is not valid.');
  const link = await db.selectFrom('csv_links').selectAll().where('id', '=', Number(match[1])).executeTakeFirst();
  const given = Buffer.from(hashToken(match[2]!));
  if (!link || !timingSafeEqual(given, Buffer.from(link.secret_hash))) return refuse('forbidden', 'This link is not valid.');
  const rest = new URLSearchParams(params);
  rest.delete(CSV_LINK_PARAM);
  if (path !== csvExportPath(link.export_kind) || pairs(rest).join('&') !== pairs(new URLSearchParams(link.query)).join('&')) {
    return refuse('forbidden', 'This link was made for another export or other filters: make a new link for these.');
  }
  const nowMs = clock.now();
  if (link.revoked_at_ms !== null) return refuse('gone', 'This CSV link was revoked.');
  if (nowMs >= Number(link.expires_at_ms)) return refuse('gone', `This CSV link expired on ${new Date(Number(link.expires_at_ms)).toISOString().slice(0, 10)}.`);
  await db.updateTable('csv_links').set({ last_used_at_ms: nowMs }).where('id', '=', link.id).execute();
  return { ok: true, userId: Number(link.user_id), linkId: Number(link.id) };
}

/** The sealed cookie a new link crosses a plain form's 303 to the keys page in (src/web/flash-cookie.ts). */
export const NEW_CSV_LINK_FLASH = 'new_csv_link';
