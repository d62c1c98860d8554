// /playground: one prompt through the same metering path as the API (no key), the reply with its cost, the balance card updated.
// A plain form whose call ran answers 303 to the page showing its answer (kept-outcomes.ts), so a refresh never sends it again.
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppContext } from '../context.ts';
import { newRequestId } from '../gateway/request-id.ts';
import { CallAbortedError, InvalidRequestError, OutOfCreditsError, ShuttingDownError, UpstreamFailure } from '../gateway/errors.ts';
import { BudgetExceededError } from '../caps/caps.ts';
import { describeError, type ErrorDescription } from '../errors/descriptions.ts';
import { loadOverview } from '../credits/page-data.ts';
import type { Rate } from '../db/schema.ts';
import { currentRate, modelLabel } from '../pricing/rates.ts';
import type { AppEnv } from '../web/env.ts';
import { requireUser } from '../web/auth-middleware.ts';
import { bytesText, closeAfterTooLarge, PROMPT_FORM_BODY_LIMIT_BYTES, limitBody } from '../web/body-limits.ts';
import { clientGoneSignal } from '../web/client-gone.ts';
import { formFields } from '../web/form-data.ts';
import { render, wantsPartial } from '../web/render.tsx';
import { BalanceCard } from '../../views/credits/balance-card.tsx';
import { groupedCountText } from '../money-text.ts';
import { keptOutcomes } from './kept-outcomes.ts';
import { PlaygroundOutcome, PlaygroundPanel, type PlaygroundPanelProps, type PlaygroundResult, type PlaygroundValues } from '../../views/playground.tsx';

/** The words for a form past the limit: the form was not read, so they cannot be shown beside it. */
const PROMPT_TOO_LARGE = `The prompt is too large: the playground takes at most ${bytesText(PROMPT_FORM_BODY_LIMIT_BYTES)}, as the API does. Nothing was sent or charged.`;

type Errors = NonNullable<PlaygroundPanelProps['errors']>;

/** The max_tokens field's message: the chosen model's range, from the rates the page shows. */
function maxTokensMessage(rates: Rate[], model: string): string {
  const rate = rates.find((each) => each.model === model);
  return rate ? `Enter a whole number from 1 to ${groupedCountText(rate.max_output_tokens)}, or leave it empty.` : 'Enter a whole number, or leave it empty.';
}

/** What a refused or failed call shows in the result panel, with the status of the answer. */
function failedResult(error: unknown, described: ErrorDescription): { result: PlaygroundResult; status: 200 | ContentfulStatusCode } {
  if (error instanceof ShuttingDownError || error instanceof CallAbortedError) {
    return { result: { kind: 'failed', message: 'The server is restarting. Send the prompt again in a few seconds.' }, status: 200 };
  }
  // htmx swaps only 2xx, 402, 413, 422 and 429 (README, Decisions): an upstream failure is shown with 200.
  if (error instanceof UpstreamFailure) return { result: { kind: 'failed', message: described.message }, status: 200 };
  const kind = error instanceof OutOfCreditsError ? 'out-of-credits' : error instanceof BudgetExceededError ? 'over-cap' : 'failed';
  return { result: { kind, message: described.message }, status: described.status };
}

export function playgroundRoutes(ctx: AppContext) {
  const { config, gateway, db } = ctx;
  const app = new Hono<AppEnv>();
  app.use('/playground', requireUser);

  /** `badMaxTokens`: the max_tokens field was refused (by the form or the gateway); its message names the model's range. */
  async function page(c: Context<AppEnv>, values: PlaygroundValues | null, extra: { errors?: Errors; badMaxTokens?: boolean; result?: PlaygroundResult } = {}, status: ContentfulStatusCode = 200) {
    const userId = c.get('user')!.id;
    const card = await loadOverview(ctx, userId);
    // Chat models only: an embedding model answers no prompt.
    const rates = card.rates.filter((r) => r.kind === 'chat');
    // The cheapest model is the one to try things with.
    const cheapest = [...rates].sort((a, b) => a.output_mc_per_1k - b.output_mc_per_1k)[0];
    const shown = values ?? { model: cheapest?.model ?? '', prompt: '', maxTokens: '' };
    const errors = extra.badMaxTokens ? { ...extra.errors, max_tokens: maxTokensMessage(rates, shown.model) } : extra.errors;
    const props: PlaygroundPanelProps = { rates, values: shown, errors, result: extra.result };
    return render(c, config, {
      title: 'Playground',
      current: '/playground',
      status,
      page: () => (
        <>
          <h1>Playground</h1>
          <p class="muted">Try a model from the browser. Each call is charged like an API call (without a key) and listed on the Credits tab.</p>
          <BalanceCard wallet={card.wallet} outOfCredits={card.outOfCredits} canBuy={card.canBuy} limits={card.limits} promo={card.promo} newAccount={card.newAccount} runOutDays={card.runOutDays} />
          <PlaygroundPanel {...props} />
        </>
      ),
      // htmx swaps the panel; the balance card beside it is replaced out of band.
      partial: () => (
        <>
          <PlaygroundPanel {...props} />
          <BalanceCard wallet={card.wallet} outOfCredits={card.outOfCredits} canBuy={card.canBuy} limits={card.limits} promo={card.promo} newAccount={card.newAccount} runOutDays={card.runOutDays} oob />
        </>
      ),
    });
  }

  const kept = keptOutcomes();
  const OUTCOME_GONE: PlaygroundResult = {
    kind: 'failed',
    message: 'That answer is no longer kept here (answers are kept for 10 minutes). Its call, and what it cost, are listed on the Credits tab.',
  };

  app.get('/playground', (c) => {
    const token = c.req.query('outcome');
    if (token === undefined) return page(c, null);
    const outcome = kept.find(token, c.get('user')!.id);
    return outcome ? page(c, outcome.values, { result: outcome.result }) : page(c, null, { result: OUTCOME_GONE });
  });

  /** The call ran (answered or failed upstream): htmx gets the panel; a plain form goes on by 303 to it. */
  function ranOutcome(c: Context<AppEnv>, values: PlaygroundValues, result: PlaygroundResult) {
    if (wantsPartial(c)) return page(c, values, { result });
    return c.redirect(`/playground?outcome=${kept.keep({ userId: c.get('user')!.id, values, result })}`, 303);
  }

  // A prompt as large as the API takes. Past it, htmx shows the words in place of the result and
  // leaves the form (and the prompt typed in it) alone; a plain post gets the page with them.
  const promptLimit = limitBody({
    maxSize: PROMPT_FORM_BODY_LIMIT_BYTES,
    onError: (c) => {
      closeAfterTooLarge(c);
      const result: PlaygroundResult = { kind: 'failed', message: PROMPT_TOO_LARGE };
      if (!wantsPartial(c)) return page(c, null, { result }, 413);
      return c.html(<PlaygroundOutcome result={result} />, 413, { 'HX-Retarget': '#playground-outcome', 'HX-Reswap': 'outerHTML' });
    },
  });

  app.post('/playground', promptLimit, async (c) => {
    const field = await formFields(c);
    const values: PlaygroundValues = { model: field('model'), prompt: field('prompt'), maxTokens: field('max_tokens').trim() };
    // Only what the form itself can tell; the model and the max_tokens range are the gateway's to
    // refuse (InvalidRequestError, mapped to the fields below), against the rate card it reads anyway.
    const errors: Errors = {};
    if (values.prompt.trim() === '') errors.prompt = 'Write a prompt to send.';
    const badMaxTokens = values.maxTokens !== '' && !/^\d{1,9}$/.test(values.maxTokens);
    if (Object.keys(errors).length > 0 || badMaxTokens) return page(c, values, { errors, badMaxTokens }, 422);
    const maxTokens = values.maxTokens === '' ? null : Number(values.maxTokens);

    const body = { model: values.model, messages: [{ role: 'user', content: values.prompt }], ...(maxTokens !== null ? { max_tokens: maxTokens } : {}) };
    try {
      const result = await gateway.call({ userId: c.get('user')!.id, apiKeyId: null }, body, { requestId: newRequestId(), clientSignal: clientGoneSignal(c) });
      if (result.kind !== 'completion') {
        // Not expected (the body asks for no stream); it still runs to its end, unread, and is charged.
        result.start({ chunk: () => {}, end: () => {} });
        throw new Error('the playground asked for a completion, not a stream');
      }
      const rate = await currentRate(db, values.model);
      const reply: PlaygroundResult = {
        kind: 'reply',
        model: values.model,
        modelLabel: rate ? modelLabel(rate) : values.model,
        text: result.completion.choices[0]?.message.content ?? '',
        requestId: result.requestId,
        chargedMc: result.chargedMc,
        inputTokens: result.tokens.inputTokens,
        cachedInputTokens: result.tokens.cachedInputTokens,
        outputTokens: result.tokens.outputTokens,
        estimated: result.estimated,
        cappedOutputTokens: result.cappedOutputTokens,
      };
      return ranOutcome(c, values, reply);
    } catch (error) {
      const described = describeError(error, config);
      if (!described) throw error;
      if (error instanceof InvalidRequestError) {
        // The gateway's words are for API callers: the model and max_tokens fields get the form's own.
        if (error.param === 'model') return page(c, values, { errors: { model: 'Choose a model from the list.' } }, 422);
        if (error.param === 'max_tokens') return page(c, values, { badMaxTokens: true }, 422);
        return page(c, values, { errors: { prompt: described.message } }, 422);
      }
      const { result, status } = failedResult(error, described);
      // The upstream failed or the server restarted: the call ran (and was settled), shown like an answer.
      if (status === 200) return ranOutcome(c, values, result);
      // Refused before any call (out of credits, over a cap, too many at once): the form again with
      // why, in place; nothing was done, so sending it again is safe. The user's calls through their
      // keys count against the same limit (htmx swaps a 429 too).
      for (const [name, value] of Object.entries(described.headers)) c.header(name, value);
      return page(c, values, { result }, status);
    }
  });

  return app;
}
