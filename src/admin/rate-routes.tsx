// /admin/rates: the rate card's page and its forms (add a model, change rates, retire). Mounted
// inside adminRoutes, behind its admin check.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import type { RateKind } from '../db/schema.ts';
import { creditsExactText, parseCreditsToMc } from '../money-text.ts';
import { currentRates, MODEL_ID_PATTERN, type NewRate } from '../pricing/rates.ts';
import type { AppEnv } from '../web/env.ts';
import { formFields } from '../web/form-data.ts';
import { redirectTo, render } from '../web/render.tsx';
import { AdminNav } from '../../views/admin/admin-nav.tsx';
import { RateCardPage } from '../../views/admin/rate-card.tsx';
import type { FormProblem } from '../../views/admin/user-page.tsx';
import { adminActionsOn, reasonProblem } from './actions.ts';
import { RateCardConflictError, retireByAdmin, setRateByAdmin } from './rate-actions.ts';

/** The highest rate the console takes: 1,000,000 credits per 1k tokens. */
export const MAX_RATE_MC_PER_1K = 1_000_000_000;
export const MAX_MAX_OUTPUT_TOKENS = 10_000_000;
const MAX_LABEL_CHARS = 100;
const FIELDS = ['model', 'kind', 'label', 'input', 'cached', 'output', 'max_output', 'reason'] as const;

const NOTICES: Record<string, string> = { add: 'The model was added to the rate card.', change: 'New rates saved as a new version.', retire: 'The model was retired: calls to it now get 400 model_retired.' };

type Field = (name: string) => string;

/** The rate fields as a NewRate, or the fields' problems. */
function parseRate(field: Field, model: string): { ok: true; rate: NewRate } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const rate = (name: string, required: boolean): number | undefined => {
    const text = field(name).trim();
    if (text === '' && !required) return undefined;
    const mc = parseCreditsToMc(text);
    if (mc === null || mc < 0) errors[name] = 'A number of credits (0 or more) with at most 3 decimals, e.g. 0.15.';
    else if (mc > MAX_RATE_MC_PER_1K) errors[name] = `At most ${creditsExactText(MAX_RATE_MC_PER_1K)} credits per 1k tokens.`;
    else return mc;
    return undefined;
  };
  const inputMcPer1k = rate('input', true);
  const cachedInputMcPer1k = rate('cached', false);
  const outputMcPer1k = rate('output', true);
  const maxText = field('max_output').trim();
  let maxOutputTokens: number | undefined;
  if (maxText !== '') {
    if (!/^\d{1,9}$/.test(maxText) || Number(maxText) < 1 || Number(maxText) > MAX_MAX_OUTPUT_TOKENS) errors.max_output = `A whole number of tokens from 1 to ${MAX_MAX_OUTPUT_TOKENS}.`;
    else maxOutputTokens = Number(maxText);
  }
  const label = field('label').trim();
  if (label.length > MAX_LABEL_CHARS) errors.label = `At most ${MAX_LABEL_CHARS} characters.`;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, rate: { model, inputMcPer1k: inputMcPer1k!, outputMcPer1k: outputMcPer1k!, cachedInputMcPer1k, maxOutputTokens, label: label === '' ? undefined : label } };
}

export function rateCardRoutes(ctx: AppContext) {
  const { config, db, clock } = ctx;
  const app = new Hono<AppEnv>();

  async function page(c: Context<AppEnv>, problem: FormProblem | null = null, status: 200 | 422 = 200) {
    const [rates, actions] = await Promise.all([currentRates(db, undefined, { includeRetired: true }), adminActionsOn(db, null, 50, ['rate_add', 'rate_change', 'rate_retire'])]);
    return render(c, config, {
      title: 'Admin · Rate card',
      current: '/admin',
      status,
      page: () => (
        <>
          <h1>Rate card</h1>
          <AdminNav current="/admin/rates" />
          <RateCardPage rates={rates} actions={actions} problem={problem} notice={NOTICES[c.req.query('done') ?? ''] ?? null} />
        </>
      ),
    });
  }

  app.get('/admin/rates', (c) => page(c));

  /** The form's fields as typed, for its re-render; `form` is which form on the page sent them. */
  const problemOf = (field: Field, errors: Record<string, string>): FormProblem => ({
    form: /^(add-rate|rate-\d{1,15}|retire-\d{1,15})$/.test(field('form')) ? field('form') : 'add-rate',
    errors,
    values: Object.fromEntries(FIELDS.map((name) => [name, field(name)])),
  });

  for (const adding of [true, false]) {
    app.post(adding ? '/admin/rates/add' : '/admin/rates/change', async (c) => {
      const field = await formFields(c);
      const model = field('model').trim();
      const errors: Record<string, string> = {};
      if (!MODEL_ID_PATTERN.test(model)) errors.model = 'A model id: 1 to 100 letters, digits, . _ : / -';
      const kindText = field('kind') || 'chat';
      if (adding && kindText !== 'chat' && kindText !== 'embeddings') errors.kind = 'chat or embeddings.';
      const reason = field('reason').trim();
      const reasonError = reasonProblem(reason);
      if (reasonError) errors.reason = reasonError;
      const parsed = parseRate(field, model);
      if (!parsed.ok || Object.keys(errors).length > 0) return page(c, problemOf(field, { ...errors, ...(parsed.ok ? {} : parsed.errors) }), 422);
      try {
        await setRateByAdmin(db, clock, c.get('user')!.id, { ...parsed.rate, kind: kindText as RateKind }, reason, adding);
      } catch (error) {
        if (!(error instanceof RateCardConflictError)) throw error;
        return page(c, problemOf(field, { model: error.message }), 422);
      }
      return redirectTo(c, `/admin/rates?done=${adding ? 'add' : 'change'}`);
    });
  }

  app.post('/admin/rates/retire', async (c) => {
    const field = await formFields(c);
    const reason = field('reason').trim();
    const reasonError = reasonProblem(reason);
    if (reasonError) return page(c, problemOf(field, { reason: reasonError }), 422);
    const retired = await retireByAdmin(db, clock, c.get('user')!.id, field('model').trim(), reason);
    if (!retired) return page(c, problemOf(field, { reason: 'That model is not on sale (unknown, or already retired).' }), 422);
    return redirectTo(c, '/admin/rates?done=retire');
  });

  return app;
}
