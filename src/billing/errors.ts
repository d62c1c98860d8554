// Named errors of the billing domain, free of HTTP; src/errors/descriptions.ts describes each for an answer.

export class PaymentsOffError extends Error {
  override name = 'PaymentsOffError';
  constructor() {
    super('buying credits is turned off (PAYMENTS=off)');
  }
}

export class PackageNotFoundError extends Error {
  override name = 'PackageNotFoundError';
  constructor(readonly packageId: string) {
    super(`no package "${packageId}" is on sale`);
  }
}

/** The payment provider could not be reached or refused the request; nothing was charged. */
export class PaymentProviderError extends Error {
  override name = 'PaymentProviderError';
  constructor(override readonly cause: Error) {
    super(`the payment provider failed: ${cause.name}: ${cause.message}`);
  }
}

/** The saved card could not be detached at the provider, so it was kept (still usable by auto-recharge). */
export class CardNotRemovedError extends Error {
  override name = 'CardNotRemovedError';
  constructor(override readonly cause: Error) {
    super(`the saved card could not be detached: ${cause.name}: ${cause.message}`);
  }
}

/** No purchase of this user has that Checkout Session, id or ledger reference (or it is not one the page can show). */
export class PurchaseNotFoundError extends Error {
  override name = 'PurchaseNotFoundError';
  constructor() {
    super('no such purchase on this account');
  }
}

/** The webhook's signature did not verify (or no secret is configured): nothing is changed. */
export class WebhookSignatureError extends Error {
  override name = 'WebhookSignatureError';
}

/** For log lines: the SDK's error class lives in `type` (its `name` is plain "Error"); never a body or key. */
export function errorText(error: unknown): string {
  const e = error as { type?: unknown; name?: string; message?: string };
  return `${typeof e.type === 'string' ? e.type : (e.name ?? 'Error')}: ${e.message ?? String(error)}`;
}
