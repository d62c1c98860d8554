// What every billing function is given: the database, the clock, the payment provider chosen by
// PAYMENTS (Stripe through the SDK, or the local demo provider), the public URL and a log.
import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { PaymentGateway } from './gateway.ts';
import { demoGateway } from './demo-gateway.ts';
import { createStripeClient, stripeGateway } from './stripe-gateway.ts';

export interface BillingDeps {
  db: DB;
  clock: Clock;
  gateway: PaymentGateway;
  /** For return URLs and the links in mail. */
  publicUrl: string;
  log: (line: string) => void;
}

/** null when PAYMENTS=off: nothing can be bought. */
export function paymentGateway(config: Config, db: DB, clock: Clock): PaymentGateway | null {
  if (config.payments === 'stripe') return stripeGateway(createStripeClient(config));
  if (config.payments === 'demo') return demoGateway(db, clock);
  return null;
}

export function billingDeps(config: Config, db: DB, clock: Clock, log: (line: string) => void): BillingDeps | null {
  const gateway = paymentGateway(config, db, clock);
  return gateway ? { db, clock, gateway, publicUrl: config.publicUrl, log } : null;
}
