// The usage and ledger tables' own URLs on the Credits tab: the section anchor each lands at, and
// where a call's "← Back" leads (the table page it was opened from, and only ever a table).
/** Each table's section on the Credits tab: a table's URL lands there (a reload, a shared link, a plain form). */
export const TABLE_ANCHORS = { '/credits/usage': '#usage', '/credits/ledger': '#ledger', '/credits/purchases': '#purchases' } as const;
export type TablePath = keyof typeof TABLE_ANCHORS;

/**
 * The anchor of a table at `path`: the Credits tab's own, or, for the same tables on the admin
 * console's page of a user (/admin/users/7/usage), the section named by the path's last part.
 */
export function tableAnchor(path: string): string {
  return (TABLE_ANCHORS as Record<string, string>)[path] ?? `#${path.split('/').at(-1)}`;
}

/** A table's canonical URL: its path, its query (`queryString` of the filters) and its section's anchor. */
export function tableUrl(path: TablePath, query: string): string {
  return `${path}${query}${TABLE_ANCHORS[path]}`;
}

// Only the usage and ledger tables open call details, so only they are somewhere "← Back" may lead.
const TABLE_PARAMS: Partial<Record<TablePath, readonly string[]>> = { '/credits/usage': ['model', 'key', 'from', 'to', 'cursor'], '/credits/ledger': ['type', 'from', 'to', 'cursor'] };
const BACK_MAX_CHARS = 2_000;

/**
 * Where a usage detail's "← Back" leads: the table page it was opened from (`back`, a path and
 * query the row's link carries), rebuilt from that table's own parameters only, so it can only
 * ever lead to one of the two tables; anything else leads to the usage table's first page.
 */
export function backToTable(back: string | undefined): { href: string; label: string } {
  const fallback = { href: tableUrl('/credits/usage', ''), label: '← Back to usage' };
  if (!back || back.length > BACK_MAX_CHARS || !back.startsWith('/credits/')) return fallback;
  let url: URL;
  try {
    url = new URL(back, 'http://tokentab.invalid');
  } catch {
    return fallback;
  }
  const path = url.pathname as TablePath;
  if (url.origin !== 'http://tokentab.invalid' || !Object.hasOwn(TABLE_PARAMS, path)) return fallback;
  // The table's own parameters only, in its order; anything else the link carried is dropped.
  const kept = new URLSearchParams();
  for (const name of TABLE_PARAMS[path]!) {
    const value = url.searchParams.get(name);
    if (value) kept.set(name, value);
  }
  const query = kept.size > 0 ? `?${kept}` : '';
  return { href: tableUrl(path, query), label: path === '/credits/ledger' ? '← Back to the ledger' : '← Back to usage' };
}
