// The console's list of users: searched by email, sorted by balance or by last activity (the
// wallet's last change: a call, a purchase, a grant), highest first, in keyset pages.
import { sql } from 'kysely';
import type { DB } from '../db/connect.ts';
import type { Cursor } from '../db/cursor.ts';
import { keysetQuery, toPage, type Page } from '../db/keyset.ts';

export const USER_SORTS = ['balance', 'activity'] as const;
export type UserSort = (typeof USER_SORTS)[number];
export const MAX_EMAIL_SEARCH_CHARS = 254;
export const USERS_PAGE_SIZE = 50;

export interface UserListFilters {
  /** Part of an email, any case; "" for everyone. */
  search: string;
  sort: UserSort;
  cursor: Cursor | null;
}

export interface UserListRow {
  id: number;
  email: string;
  is_admin: number;
  disabled_at_ms: number | null;
  balance_mc: number;
  held_mc: number;
  updated_at_ms: number;
  sort_key: number;
}

/** LIKE's own characters taken literally: a search for "a_b" finds "a_b", not "axb". */
function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function usersPage(db: DB, filters: UserListFilters, pageSize = USERS_PAGE_SIZE): Promise<Page<UserListRow>> {
  let base = db
    .selectFrom('users as u')
    .innerJoin('wallets as w', 'w.user_id', 'u.id')
    .select(['u.id', 'u.email', 'u.is_admin', 'u.disabled_at_ms', 'w.balance_mc', 'w.held_mc', 'w.updated_at_ms'])
    .select(filters.sort === 'balance' ? sql<number>`w.balance_mc`.as('sort_key') : sql<number>`w.updated_at_ms`.as('sort_key'));
  if (filters.search !== '') base = base.where(sql<boolean>`u.email_normalized like ${likePattern(filters.search)} escape '\\'`);
  const query = db.selectFrom(base.as('t')).selectAll();
  const fetched = (await keysetQuery(query, filters.cursor, pageSize, 'sort_key').execute()) as UserListRow[];
  return toPage(
    fetched.map((row) => ({ ...row, balance_mc: Number(row.balance_mc), held_mc: Number(row.held_mc), updated_at_ms: Number(row.updated_at_ms), sort_key: Number(row.sort_key) })),
    filters.cursor,
    pageSize,
    (row) => row.sort_key,
  );
}
