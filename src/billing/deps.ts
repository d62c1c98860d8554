// What every billing function is given: the database, the clock, the payment provider chosen by
// PAYMENTS (Stripe through the SDK, or the local demo provider), the public URL and a log.
import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { PaymentProvider } from './payment-provider.ts';
import { demoProvider } from './demo-provider.ts';
import { createStripeClient, stripeProvider } from './stripe-provider.ts';

export interface BillingDeps {
  db: DB;
  clock: Clock;
  provider: PaymentProvider;
  /** For return URLs and the links in mail. */
  publicUrl: string;
  log: (line: string) => void;
}

/** null when PAYMENTS=off: nothing can be bought. */
export function paymentProvider(config: Config, db: DB, clock: Clock): PaymentProvider | null {
  if (config.payments === 'stripe') return stripeProvider(createStripeClient(config));
  if (config.payments === 'demo') return demoProvider(db, clock);
  return null;
}

export function billingDeps(config: Config, db: DB, clock: Clock, log: (line: string) => void): BillingDeps | null {
  const provider = paymentProvider(config, db, clock);
  return provider ? { db, clock, provider, publicUrl: config.publicUrl, log } : null;
}
