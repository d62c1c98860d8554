// The versioned rate card: the current rate of a model is its highest version; versions are never edited.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Rate, RateKind } from '../db/schema.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { rawFirst } from '../db/raw.ts';

/** A model id as the card takes it (the CLI's rates:set and the admin console): letters, digits, . _ : / - */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9._:/-]{1,100}$/;

/** How a model is named on pages: "Eco (gpt-4o-mini)", or the model id when it has no label of its own. */
export function modelLabel(rate: Pick<Rate, 'label' | 'model'>): string {
  return rate.label === rate.model ? rate.model : `${rate.label} (${rate.model})`;
}

/**
 * The current version of every model on sale, or of the models of one kind (chat or embeddings);
 * `includeRetired` adds the retired ones (the admin's rate card).
 */
export async function currentRates(db: DB, kind?: RateKind, options: { includeRetired?: boolean } = {}): Promise<Rate[]> {
  let query = db
    .selectFrom('rates as r')
    .selectAll()
    .where((eb) =>
      eb(
        'r.version',
        '=',
        eb.selectFrom('rates as newer').select((n) => n.fn.max('newer.version').as('v')).whereRef('newer.model', '=', 'r.model'),
      ),
    )
    .orderBy('r.model');
  if (kind) query = query.where('r.kind', '=', kind);
  if (!options.includeRetired) query = query.where('r.retired_at_ms', 'is', null);
  return query.execute();
}

export async function currentRate(db: DB, model: string): Promise<Rate | undefined> {
  return rawFirst<Rate>(db, 'select * from rates where model = ? order by version desc limit 1', [model]);
}

export interface NewRate {
  model: string;
  inputMcPer1k: number;
  outputMcPer1k: number;
  /** Defaults to the previous version's, or to the input rate for a new model. */
  cachedInputMcPer1k?: number;
  /** Defaults to the previous version's, or 16,384 for a new model. */
  maxOutputTokens?: number;
  /** Defaults to the previous version's, or the model name. */
  label?: string;
  /** A new model's kind (default chat); a new version keeps its model's. */
  kind?: RateKind;
}

/**
 * Adds a new version of a model's rate; rows already written keep pointing at the old one. A new
 * version of a retired model puts it back on sale (it is not retired itself).
 */
export function setRate(db: DB, clock: Clock, input: NewRate): Promise<Rate> {
  return writeTransaction(db, (trx) => setRateIn(trx, clock.now(), input));
}

/** setRate inside the caller's transaction (the admin console records its action beside it). */
export async function setRateIn(trx: Trx, nowMs: number, input: NewRate): Promise<Rate> {
  const previous = await trx.selectFrom('rates').selectAll().where('model', '=', input.model).orderBy('version', 'desc').limit(1).executeTakeFirst();
  return trx
    .insertInto('rates')
    .values({
      model: input.model,
      version: (previous?.version ?? 0) + 1,
      label: input.label ?? previous?.label ?? input.model,
      input_mc_per_1k: input.inputMcPer1k,
      cached_input_mc_per_1k: input.cachedInputMcPer1k ?? previous?.cached_input_mc_per_1k ?? input.inputMcPer1k,
      output_mc_per_1k: input.outputMcPer1k,
      max_output_tokens: input.maxOutputTokens ?? previous?.max_output_tokens ?? 16_384,
      created_at_ms: nowMs,
      // A new version prices the same kind of model.
      kind: previous?.kind ?? input.kind ?? 'chat',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Takes a model off sale: every version is marked, so calls to it get 400 model_retired. Usage rows
 * keep the rates they were charged (copied onto them). False when it is not on the card or already retired.
 */
export async function retireModelIn(trx: Trx, nowMs: number, model: string): Promise<boolean> {
  const current = await trx.selectFrom('rates').select(['retired_at_ms']).where('model', '=', model).orderBy('version', 'desc').limit(1).executeTakeFirst();
  if (!current || current.retired_at_ms !== null) return false;
  await trx.updateTable('rates').set({ retired_at_ms: nowMs }).where('model', '=', model).where('retired_at_ms', 'is', null).execute();
  return true;
}
