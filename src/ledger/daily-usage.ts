// The daily usage rollup (usage_daily): every usage row is added to its (user, UTC day, model, key,
// endpoint) row in the transaction that writes it, so the usage summary reads totals, never history.
import type { Usage } from '../db/schema.ts';
import { rawRun } from '../db/raw.ts';
import type { Trx } from '../db/transaction.ts';
import { utcDay } from '../month.ts';

const COLUMNS = ['calls', 'input_tokens', 'cached_input_tokens', 'output_tokens', 'reasoning_tokens', 'charged_mc'] as const;

// One fixed text (cached as a prepared statement), whatever the batch: a portable upsert on both backends.
const UPSERT = `insert into usage_daily (user_id, day, model, api_key_id, endpoint, ${COLUMNS.join(', ')})
  values (?, ?, ?, ?, ?, ${COLUMNS.map(() => '?').join(', ')})
  on conflict (user_id, day, model, api_key_id, endpoint) do update set
  ${COLUMNS.map((column) => `${column} = usage_daily.${column} + excluded.${column}`).join(', ')}`;

type Sums = Record<(typeof COLUMNS)[number], number>;
type Rolled = Pick<Usage, 'user_id' | 'created_at_ms' | 'model' | 'api_key_id' | 'endpoint' | 'input_tokens' | 'cached_input_tokens' | 'output_tokens' | 'reasoning_tokens' | 'charged_mc'>;

/**
 * Adds usage rows just written in `trx` to the rollup: one upsert per distinct (user, day, model, key,
 * endpoint) among them, so a settle batch of many calls by few users and models costs a few statements.
 * Every writer holds the rows' users' wallet locks (db/locks.ts), so no two transactions race on a
 * rollup row.
 */
export async function addToDailyUsage(trx: Trx, rows: readonly Rolled[]): Promise<void> {
  const groups = new Map<string, { key: [number, string, string, number, string]; sums: Sums }>();
  for (const row of rows) {
    const key: [number, string, string, number, string] = [row.user_id, utcDay(row.created_at_ms), row.model, row.api_key_id ?? 0, row.endpoint];
    const id = key.join('\u0000');
    let group = groups.get(id);
    if (!group) {
      group = { key, sums: { calls: 0, input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, charged_mc: 0 } };
      groups.set(id, group);
    }
    group.sums.calls += 1;
    group.sums.input_tokens += row.input_tokens;
    group.sums.cached_input_tokens += row.cached_input_tokens;
    group.sums.output_tokens += row.output_tokens;
    group.sums.reasoning_tokens += row.reasoning_tokens;
    group.sums.charged_mc += row.charged_mc;
  }
  for (const { key, sums } of groups.values()) {
    await rawRun(trx, UPSERT, [...key, ...COLUMNS.map((column) => sums[column])]);
  }
}
