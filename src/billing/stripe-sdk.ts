// The Stripe SDK, loaded at its first use: a server with PAYMENTS=demo or off never loads it (its
// modules cost a few MB and tens of ms at start; docs/architecture.md, Start-up and memory).
import { createRequire } from 'node:module';
import type Stripe from 'stripe';

const requireHere = createRequire(import.meta.url);
let sdk: typeof Stripe | null = null;

/** The SDK's class, with its static `errors` and `webhooks`; the same one on every call. */
export function stripeSdk(): typeof Stripe {
  return (sdk ??= requireHere('stripe') as typeof Stripe);
}
