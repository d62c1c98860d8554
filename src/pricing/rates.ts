// The versioned rate card: the current rate of a model is its highest version; versions are never edited.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Rate, RateKind } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { rawFirst } from '../db/raw.ts';

/** How a model is named on pages: "Eco (gpt-4o-mini)", or the model id when it has no label of its own. */
export function modelLabel(rate: Pick<Rate, 'label' | 'model'>): string {
  return rate.label === rate.model ? rate.model : `${rate.label} (${rate.model})`;
}

/** The current version of every model, or of the models of one kind (chat or embeddings). */
export async function currentRates(db: DB, kind?: RateKind): Promise<Rate[]> {
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
}

/** Adds a new version of a model's rate; rows already written keep pointing at the old one. */
export function setRate(db: DB, clock: Clock, input: NewRate): Promise<Rate> {
  return writeTransaction(db, async (trx) => {
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
        created_at_ms: clock.now(),
        // A new version prices the same kind of model; a new model is a chat model.
        kind: previous?.kind ?? 'chat',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}
