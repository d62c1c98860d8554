// The daily usage rollup: per user, UTC day, model, key (0 for the playground) and endpoint, the
// calls and their token and charge sums, kept in the transaction that writes each usage row, so the
// usage summary API (and the Credits tab's spend over time) reads a handful of rows, never the usage
// history. Filled here from the usage rows an install already has.
import { sql, type Kysely } from 'kysely';

const DAY_MS = 86_400_000;
/** Rows per insert in the backfill: well under SQLite's and PostgreSQL's bound-parameter limits (11 a row). */
const BACKFILL_CHUNK = 500;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('usage_daily')
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // "2026-11-05": the UTC day of the usage rows' created_at_ms (when the call was settled or voided).
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    // 0, not NULL, for the playground's calls: a unique key treats NULLs as distinct, so an upsert would never meet them.
    .addColumn('api_key_id', 'bigint', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('calls', 'bigint', (c) => c.notNull())
    .addColumn('input_tokens', 'bigint', (c) => c.notNull())
    .addColumn('cached_input_tokens', 'bigint', (c) => c.notNull())
    .addColumn('output_tokens', 'bigint', (c) => c.notNull())
    .addColumn('reasoning_tokens', 'bigint', (c) => c.notNull())
    .addColumn('charged_mc', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_daily_pk', ['user_id', 'day', 'model', 'api_key_id', 'endpoint'])
    .execute();

  // Summed by the database per day number (integer division by a literal, as portable as SQL gets:
  // neither backend names a date the same way); the day is named here.
  const groups = await sql<{
    user_id: number; day_number: number; model: string; api_key_id: number; endpoint: string;
    calls: number; input_tokens: number; cached_input_tokens: number; output_tokens: number; reasoning_tokens: number; charged_mc: number;
  }>`
    select user_id, created_at_ms / ${sql.lit(DAY_MS)} as day_number, model, coalesce(api_key_id, 0) as api_key_id, endpoint,
           count(*) as calls, sum(input_tokens) as input_tokens, sum(cached_input_tokens) as cached_input_tokens,
           sum(output_tokens) as output_tokens, sum(reasoning_tokens) as reasoning_tokens, sum(charged_mc) as charged_mc
    from usage
    group by user_id, created_at_ms / ${sql.lit(DAY_MS)}, model, coalesce(api_key_id, 0), endpoint`.execute(db);
  const rows = groups.rows.map((g) => ({
    user_id: Number(g.user_id),
    day: new Date(Number(g.day_number) * DAY_MS).toISOString().slice(0, 10),
    model: g.model,
    api_key_id: Number(g.api_key_id),
    endpoint: g.endpoint,
    calls: Number(g.calls),
    input_tokens: Number(g.input_tokens),
    cached_input_tokens: Number(g.cached_input_tokens),
    output_tokens: Number(g.output_tokens),
    reasoning_tokens: Number(g.reasoning_tokens),
    charged_mc: Number(g.charged_mc),
  }));
  for (let start = 0; start < rows.length; start += BACKFILL_CHUNK) {
    await db.insertInto('usage_daily').values(rows.slice(start, start + BACKFILL_CHUNK)).execute();
  }
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
