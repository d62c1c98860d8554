// The default rate card and packages, written into empty tables only: a restart never
// adds a rate version or brings back a package the operator changed.
import type { Clock } from './clock.ts';
import type { DB } from './db/connect.ts';
import { writeTransaction } from './db/transaction.ts';
import { lockNames } from './db/locks.ts';

export const defaultRates = [
  { model: 'gpt-4o-mini', label: 'Eco', input_mc_per_1k: 2_400, cached_input_mc_per_1k: 1_200, output_mc_per_1k: 9_600, max_output_tokens: 16_384 },
  { model: 'gpt-4o', label: 'Advanced', input_mc_per_1k: 20_000, cached_input_mc_per_1k: 10_000, output_mc_per_1k: 80_000, max_output_tokens: 16_384 },
] as const;

/** Embedding models: input only (migrations/0009_api_surfaces.ts adds the same to an existing card). */
export const defaultEmbeddingRates = [
  { model: 'text-embedding-3-small', label: 'Search', input_mc_per_1k: 200, cached_input_mc_per_1k: 200, output_mc_per_1k: 0, max_output_tokens: 1 },
  { model: 'text-embedding-3-large', label: 'Search Plus', input_mc_per_1k: 1_300, cached_input_mc_per_1k: 1_300, output_mc_per_1k: 0, max_output_tokens: 1 },
] as const;

// Each step up the ladder gives a little more per dollar (Basic +2%, Professional +5%, Enterprise
// +10%), so no package is only a second Starter.
export const defaultPackages = [
  { id: 'starter', name: 'Starter', price_cents: 1_000, credits_mc: 10_000_000, best_value: 0, sort_order: 1 },
  { id: 'basic', name: 'Basic', price_cents: 2_000, credits_mc: 20_400_000, best_value: 0, sort_order: 2 },
  { id: 'professional', name: 'Professional', price_cents: 5_000, credits_mc: 52_500_000, best_value: 0, sort_order: 3 },
  { id: 'enterprise', name: 'Enterprise', price_cents: 20_000, credits_mc: 220_000_000, best_value: 1, sort_order: 4 },
] as const;

export async function seedDefaults(db: DB, clock: Clock): Promise<void> {
  await writeTransaction(db, async (trx) => {
    // Several processes starting at once on a new PostgreSQL database would each see empty tables and
    // each insert (one failing its start on the UNIQUE rate version): the check and the insert run under
    // one named lock (nothing on SQLite, where BEGIN IMMEDIATE already runs one at a time).
    await lockNames(trx, ['seed-defaults']);
    const nowMs = clock.now();
    const rate = await trx.selectFrom('rates').select('id').limit(1).executeTakeFirst();
    if (!rate) {
      await trx
        .insertInto('rates')
        .values([
          ...defaultRates.map((r) => ({ ...r, kind: 'chat' as const, version: 1, created_at_ms: nowMs })),
          ...defaultEmbeddingRates.map((r) => ({ ...r, kind: 'embeddings' as const, version: 1, created_at_ms: nowMs })),
        ])
        .execute();
    }
    const pkg = await trx.selectFrom('packages').select('id').limit(1).executeTakeFirst();
    if (!pkg) {
      await trx
        .insertInto('packages')
        .values(defaultPackages.map((p) => ({ ...p, currency: 'usd', active: 1 as const, best_value: p.best_value as 0 | 1, created_at_ms: nowMs })))
        .execute();
    }
  });
}
