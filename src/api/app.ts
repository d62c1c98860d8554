// The /v1 sub-app: the JSON API's body limit, its routes (each checks the Bearer key), and every
// error in OpenAI's JSON shape. No cookies, sessions, CSRF or form limits: those are the pages'.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppContext } from '../context.ts';
import { describeError, INTERNAL_ERROR, requestTooLarge, unknownRoute } from '../errors/descriptions.ts';
import { API_BODY_LIMIT_BYTES, bytesText, closeAfterTooLarge, limitBody } from '../web/body-limits.ts';
import type { AppEnv } from '../web/env.ts';
import { chatCompletionsRoutes } from './chat-completions.ts';
import { apiCreditsRoutes } from './credits.ts';
import { dashboardBillingRoutes } from './dashboard-billing.ts';
import { embeddingsRoutes } from './embeddings.ts';
import { errorJson } from './error-json.ts';
import { modelsRoutes } from './models.ts';
import { responsesRoutes } from './responses.ts';
import { usageRoutes } from './usage.ts';

/** Mounted at /v1 (src/app.tsx): paths here are below it. */
export function apiApp(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  const tooLarge = requestTooLarge(bytesText(API_BODY_LIMIT_BYTES));
  app.use(
    '*',
    limitBody({
      maxSize: API_BODY_LIMIT_BYTES,
      onError: (c) => {
        closeAfterTooLarge(c);
        return errorJson(c, tooLarge);
      },
    }),
  );

  // The key is checked per route: an unknown route answers 404 whatever key came with it.
  app.route('/', chatCompletionsRoutes(ctx));
  app.route('/', responsesRoutes(ctx));
  app.route('/', embeddingsRoutes(ctx));
  app.route('/', usageRoutes(ctx));
  app.route('/', modelsRoutes(ctx));
  app.route('/', apiCreditsRoutes(ctx));
  app.route('/', dashboardBillingRoutes(ctx));
  // Every path under /v1 is the API's: an unknown one answers in JSON too. ('*', not a pattern such
  // as '/:path{.+}', which would make Hono fall back from its RegExpRouter to a slower router.)
  app.all('*', (c) => errorJson(c, unknownRoute(c.req.method, c.req.path)));

  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    const described = describeError(error, ctx.config);
    if (described) return errorJson(c, described);
    // Only the error's name and message: no headers, bodies or keys reach the log.
    ctx.log(`error ${c.req.method} ${c.req.path}: ${error.name}: ${error.message}`);
    return errorJson(c, INTERNAL_ERROR);
  });

  return app;
}
