// More of the API on the same ledger: each usage row says which endpoint it metered (chat
// completions, Responses, embeddings) and how many of its output tokens were reasoning; each rate says
// which kind of model it prices (a chat model or an embedding model), so a model is used only where it
// fits. An install that already has a rate card gets the embedding models' first versions here; a new
// one gets them from the seed with the rest (the seed writes into an empty table only).
import { sql, type Kysely } from 'kysely';

// Credits per 1k tokens, input only: text-embedding-3-small and -large at about ten times the
// upstream's list price, the markup of the chat models' defaults. max_output_tokens is unused for an
// embedding model (it writes no tokens), and the column must be positive.
const EMBEDDING_RATES = [
  { model: 'text-embedding-3-small', label: 'Search', input_mc_per_1k: 200 },
  { model: 'text-embedding-3-large', label: 'Search Plus', input_mc_per_1k: 1_300 },
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('usage').addColumn('endpoint', 'text', (c) => c.notNull().defaultTo('chat')).execute();
  await db.schema.alterTable('usage').addColumn('reasoning_tokens', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('rates').addColumn('kind', 'text', (c) => c.notNull().defaultTo('chat')).execute();
  const existing = await sql<{ n: number }>`select count(*) as n from rates`.execute(db);
  if (Number(existing.rows[0]?.n ?? 0) === 0) return;
  const nowMs = Date.now();
  for (const rate of EMBEDDING_RATES) {
    const present = await db.selectFrom('rates').select('id').where('model', '=', rate.model).executeTakeFirst();
    if (present) continue;
    await db
      .insertInto('rates')
      .values({ ...rate, kind: 'embeddings', version: 1, cached_input_mc_per_1k: rate.input_mc_per_1k, output_mc_per_1k: 0, max_output_tokens: 1, created_at_ms: nowMs })
      .execute();
  }
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
