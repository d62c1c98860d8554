// GET /v1/models: the models on the rate card (chat and embeddings) the key may call, in OpenAI's list shape so SDKs
// parse it, each with tokentab's fields beside OpenAI's: its label, kind, output limit and prices.
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import type { Rate, RateKind } from '../db/schema.ts';
import { creditsJsonNumber, usdPer1MTokensJsonNumber } from '../money-text.ts';
import { currentRates } from '../pricing/rates.ts';
import type { AppEnv } from '../web/env.ts';
import { requireApiKey } from './key-auth.ts';

/** One part of a price: credits per 1k tokens, and the same rate in dollars per 1M tokens. */
export interface PartPrice {
  creditsPer1k: number;
  usdPer1M: number;
}

export interface ListedModel {
  id: string;
  object: 'model';
  /** When the current version of its rate was set, in epoch seconds. */
  created: number;
  owned_by: 'tokentab';
  label: string;
  kind: RateKind;
  /** null for an embedding model, which writes no output. */
  maxOutputTokens: number | null;
  /** The current rates; an embedding model is priced on its input only (cachedInput and output null). */
  pricing: { input: PartPrice; cachedInput: PartPrice | null; output: PartPrice | null };
}

function partPrice(rateMcPer1k: number): PartPrice {
  return { creditsPer1k: creditsJsonNumber(rateMcPer1k), usdPer1M: usdPer1MTokensJsonNumber(rateMcPer1k) };
}

export function listedModel(rate: Rate): ListedModel {
  const chat = rate.kind === 'chat';
  return {
    id: rate.model,
    object: 'model',
    created: Math.floor(rate.created_at_ms / 1000),
    owned_by: 'tokentab',
    label: rate.label,
    kind: rate.kind,
    maxOutputTokens: chat ? rate.max_output_tokens : null,
    pricing: {
      input: partPrice(rate.input_mc_per_1k),
      cachedInput: chat ? partPrice(rate.cached_input_mc_per_1k) : null,
      output: chat ? partPrice(rate.output_mc_per_1k) : null,
    },
  };
}

export function modelsRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();

  app.get('/models', requireApiKey(ctx), async (c) => {
    const rates = await currentRates(ctx.db);
    // A key limited to some models lists only those: what it may call.
    const allowed = c.get('apiKey')!.allowedModels;
    const callable = allowed === null ? rates : rates.filter((rate) => allowed.includes(rate.model));
    return c.json({ object: 'list', data: callable.map(listedModel) });
  });

  return app;
}
