// Runs a schedule's operations against a world, each at its start time, all at once, and records what
// the clients saw: each call's request id and outcome, each purchase's session and whether it was paid,
// and any answer no client should ever get (a 500 from a webhook or the return page).
import type Stripe from 'stripe';
import { setTimeout as sleep } from 'node:timers/promises';
import { reconcilePurchases } from '../src/billing/reconcile.ts';
import { seededRandom } from '../test/helpers/random.ts';
import { WEBHOOK_SECRET } from '../test/helpers/billing.ts';
import type { UpstreamBehaviour } from '../test/fakes/openai-upstream.ts';
import type { CallOp, KeyLimitsOp, KillOp, Operation, PurchaseOp, Schedule, SettingsOp } from './schedule.ts';
import type { AppProcess, World } from './world.ts';

export interface CallSeen {
  op: number;
  user: number;
  requestId: string | null;
  /** success: a 200 answered whole; refused: a 4xx; failed: a 5xx or an error event; aborted: the client left; unreachable: no process answered. */
  outcome: 'success' | 'refused' | 'failed' | 'aborted' | 'unreachable';
  status: number | null;
}

export interface PurchaseSeen {
  op: number;
  user: number;
  sessionId: string;
  paid: boolean;
  /** Stripe's final word on the charge, which the purchase must end up agreeing with whatever order its events came in. */
  refundedCents: number;
  disputeStatus: string | null;
}

export interface Observations {
  calls: CallSeen[];
  purchases: PurchaseSeen[];
  /** Answers that break a promise on their own (a 500 from a webhook, an unexpected status): each one is a violation. */
  problems: string[];
  /** Whether any process was killed during the trial (its holds are left for the sweeper). */
  killed: boolean;
}

const MARKER = /\[sim-op (\d+)\]/;

export async function runOperations(world: World, schedule: Schedule): Promise<Observations> {
  const seen: Observations = { calls: [], purchases: [], problems: [], killed: false };
  const upstreamOf = new Map<number, UpstreamBehaviour>();
  schedule.operations.forEach((op, index) => {
    if (op.kind === 'call') upstreamOf.set(index, op.upstream);
  });
  world.upstream.chooseBehaviour((body) => {
    const found = MARKER.exec(JSON.stringify(body ?? null));
    return found ? upstreamOf.get(Number(found[1])) : undefined;
  });
  const started = Date.now();
  await Promise.all(
    schedule.operations.map(async (op, index) => {
      const waitMs = op.atMs - (Date.now() - started);
      if (waitMs > 0) await sleep(waitMs);
      await runOne(world, op, index, seen);
    }),
  );
  return seen;
}

function runOne(world: World, op: Operation, index: number, seen: Observations): Promise<void> {
  switch (op.kind) {
    case 'call':
      return call(world, op, index, seen);
    case 'purchase':
      return purchase(world, op, index, seen);
    case 'settings':
      return settings(world, op, seen);
    case 'key-limits':
      return keyLimits(world, op, seen);
    case 'kill':
      return kill(world, op, seen);
  }
}

function callBody(op: CallOp, index: number): object {
  const prompt = `[sim-op ${index}] Say something about the number ${index}.`;
  if (op.endpoint === 'chat') {
    return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], max_tokens: op.maxTokens, stream: op.stream, ...(op.stream ? { stream_options: { include_usage: true } } : {}) };
  }
  return { model: 'gpt-4o-mini', input: prompt, max_output_tokens: op.maxTokens, stream: op.stream };
}

/** Whether a 200's body is a whole answer: a JSON body, or a stream that reached its end without an error event. */
function wholeAnswer(op: CallOp, text: string): boolean {
  if (!op.stream) {
    try {
      return typeof JSON.parse(text) === 'object';
    } catch {
      return false;
    }
  }
  if (op.endpoint === 'chat') return text.includes('data: [DONE]') && !/^data: \{"error"/m.test(text);
  return /^event: response\.completed$/m.test(text);
}

async function call(world: World, op: CallOp, index: number, seen: Observations): Promise<void> {
  const user = world.users[op.user]!;
  const target = world.liveProcess(op.process);
  const record = (outcome: CallSeen['outcome'], status: number | null, requestId: string | null) => {
    seen.calls.push({ op: index, user: op.user, requestId, outcome, status });
  };
  if (!target) return record('unreachable', null, null);
  const controller = new AbortController();
  const timer = op.abortAfterMs === null ? null : setTimeout(() => controller.abort(), op.abortAfterMs);
  let status: number | null = null;
  let requestId: string | null = null;
  try {
    const answer = await fetch(`${target.url}/v1/${op.endpoint === 'chat' ? 'chat/completions' : 'responses'}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(callBody(op, index)),
      signal: controller.signal,
    });
    status = answer.status;
    requestId = answer.headers.get('x-request-id');
    const text = await answer.text();
    if (status === 200) record(wholeAnswer(op, text) ? 'success' : 'failed', status, requestId);
    else record(status < 500 ? 'refused' : 'failed', status, requestId);
  } catch {
    record(controller.signal.aborted ? 'aborted' : 'unreachable', status, requestId);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function form(slot: AppProcess, cookie: string, path: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${slot.url}${path}`, {
    method: 'POST',
    headers: { cookie, origin: slot.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
}

/** A form or page request to a live process, tried again elsewhere while processes are down (a proxy's retry). */
async function toLiveProcess(world: World, preferred: number, send: (slot: AppProcess) => Promise<Response>): Promise<Response | null> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const slot = world.liveProcess(preferred + attempt);
    if (slot) {
      try {
        return await send(slot);
      } catch {}
    }
    await sleep(100);
  }
  return null;
}

async function settings(world: World, op: SettingsOp, seen: Observations): Promise<void> {
  const user = world.users[op.user]!;
  const fields = {
    low_balance_threshold: '0', auto_recharge_threshold: '', auto_recharge_package: '', auto_recharge_monthly_limit: '',
    monthly_cap: op.monthlyCap, 'model_cap[gpt-4o-mini]': op.modelCap,
  };
  const answer = await toLiveProcess(world, op.process, (slot) => form(slot, user.cookie, '/settings/billing', fields));
  // A saved form answers 303 (Post/Redirect/Get); anything else means it was not saved.
  if (answer && answer.status !== 303) seen.problems.push(`settings ${JSON.stringify(fields)} answered ${answer.status}`);
  await answer?.text();
}

async function keyLimits(world: World, op: KeyLimitsOp, seen: Observations): Promise<void> {
  const user = world.users[op.user]!;
  const fields = { monthly_limit: op.monthlyLimit, max_in_flight: op.maxInFlight };
  const answer = await toLiveProcess(world, op.process, (slot) => form(slot, user.cookie, `/keys/${user.apiKeyId}/limits`, fields));
  if (answer && answer.status !== 303) seen.problems.push(`key limits ${JSON.stringify(fields)} answered ${answer.status}`);
  await answer?.text();
}

async function kill(world: World, op: KillOp, seen: Observations): Promise<void> {
  seen.killed = true;
  await world.kill(op.process);
  await sleep(op.restartAfterMs);
  await world.restart(op.process);
}

async function purchase(world: World, op: PurchaseOp, index: number, seen: Observations): Promise<void> {
  const user = world.users[op.user]!;
  const checkout = await toLiveProcess(world, op.process, (slot) => form(slot, user.cookie, '/credits/checkout', { package: 'starter' }));
  if (!checkout) return;
  await checkout.text();
  const sessionId = /\/(cs_[A-Za-z0-9_]+)$/.exec(checkout.headers.get('location') ?? '')?.[1];
  if (checkout.status !== 303 || !sessionId) {
    seen.problems.push(`checkout answered ${checkout.status} (${checkout.headers.get('location')})`);
    return;
  }
  const { stripe } = world;
  const events: Stripe.Event[] = [];
  let refundedCents = 0;
  let disputeStatus: string | null = null;
  if (op.paid) {
    const session = stripe.paySession(sessionId);
    events.push(stripe.event('checkout.session.completed', session));
    const chargeId = stripe.paymentIntent(session.payment_intent as string).latest_charge as string;
    if (op.after.kind === 'refund') {
      const amount = Math.max(1, Math.round(session.amount_total! * op.after.fraction));
      const refunded = stripe.refund(chargeId, amount).charge;
      refundedCents = refunded.amount_refunded;
      events.push(stripe.event('charge.refunded', refunded));
    } else if (op.after.kind === 'dispute') {
      events.push(stripe.event('charge.dispute.created', stripe.dispute(chargeId, { status: 'needs_response' })));
      events.push(stripe.event('charge.dispute.closed', stripe.dispute(chargeId, { status: op.after.outcome })));
      disputeStatus = op.after.outcome;
    }
  } else {
    events.push(stripe.event('checkout.session.expired', stripe.expireSession(sessionId)));
  }
  seen.purchases.push({ op: index, user: op.user, sessionId, paid: op.paid, refundedCents, disputeStatus });

  // Every delivery of every event, shuffled: Stripe retries and reorders; each goes to some process.
  const random = seededRandom(op.orderSeed);
  const deliveries = events.flatMap((event, e) => Array.from({ length: op.deliveries[e] ?? 1 }, () => ({ event, process: Math.floor(random() * world.processes.length), delayMs: Math.floor(random() * 60) })));
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  const tasks: Promise<void>[] = deliveries.map(async (delivery) => {
    await sleep(delivery.delayMs);
    await deliverUntilAccepted(world, delivery.event, delivery.process, seen);
  });
  if (op.returnPage) {
    tasks.push(
      (async () => {
        const back = await toLiveProcess(world, op.process, (slot) => fetch(`${slot.url}/credits/checkout/success?session_id=${sessionId}`, { headers: { cookie: user.cookie } }));
        if (back && back.status >= 500) seen.problems.push(`return page for ${sessionId} answered ${back.status}`);
        await back?.text();
      })(),
    );
  }
  if (op.reconcile) {
    tasks.push(
      reconcilePurchases(world.billing, Date.now() - 3_600_000).then(
        () => {},
        (error: Error) => void seen.problems.push(`reconcile threw: ${error.message}`),
      ),
    );
  }
  await Promise.all(tasks);
}

/** Delivers one event as Stripe does: again (to a live process) until a 2xx; a 500 is a violation. */
async function deliverUntilAccepted(world: World, event: Stripe.Event, process: number, seen: Observations): Promise<void> {
  const signed = world.stripe.signedWebhook(event, WEBHOOK_SECRET);
  for (let attempt = 0; attempt < 30; attempt++) {
    const answer = await toLiveProcess(world, process + attempt, (slot) => fetch(`${slot.url}/webhooks/stripe`, { method: 'POST', headers: signed.headers, body: signed.payload }));
    if (!answer) break;
    const text = await answer.text();
    if (answer.ok) return;
    if (answer.status >= 500) seen.problems.push(`webhook ${event.type} ${event.id} answered ${answer.status}: ${text.slice(0, 200)}`);
    await sleep(100);
  }
  seen.problems.push(`webhook ${event.type} ${event.id} never accepted`);
}
