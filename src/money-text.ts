// Money as text, one function per display rule: credits from integer millicredits (balances 2 decimals,
// tables 3, prose and mail whole credits), dollars from mc or millicents, dollars per 1M tokens from a rate, prices in their currency from cents, percentages and
// the counts shown beside them; the parser that reads a typed amount of credits back. Millicredits and
// cents are integers (docs/architecture.md, Money); only these functions turn them into text.

/** Whole numbers grouped by thousands: 1234567 → "1,234,567" (tokens, calls, milliseconds, microcredits). */
export function groupedCountText(count: number | bigint): string {
  return count.toLocaleString('en-US');
}

/** Credits exact to the millicredit, 3 decimals, no grouping: 12000 → "12.000", -3720 → "-3.720" (CSV, headers, CLI). */
export function creditsExactText(amountMc: number): string {
  const sign = amountMc < 0 ? '-' : '';
  const abs = Math.abs(amountMc);
  return `${sign}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}

/** Credits exact to the millicredit, 3 decimals, grouped by thousands: -1234567 → "-1,234.567" (tables, and the amounts an error message states). */
export function creditsExactGroupedText(amountMc: number): string {
  const [whole, fraction] = creditsExactText(amountMc).split('.');
  const negative = whole!.startsWith('-');
  return `${negative ? '-' : ''}${groupedCountText(Number(whole!.replace('-', '')))}.${fraction}`;
}

/** Whole hundredths (of a credit, a dollar, a currency), not negative, as grouped units and 2 decimals: 123456 → "1,234.56". */
function groupedHundredthsText(hundredths: number): string {
  return `${groupedCountText(Math.floor(hundredths / 100))}.${String(hundredths % 100).padStart(2, '0')}`;
}

/** Credits to the hundredth, rounded down, grouped: 1234567 → "1,234.56" (the balance card and its banners). */
export function creditsRoundedDownText(amountMc: number): string {
  return `${amountMc < 0 ? '-' : ''}${groupedHundredthsText(Math.floor(Math.abs(amountMc) / 10))}`;
}

/** Credits in prose, grouped, decimals only when there are any: 10_000_000 → "10,000", 10_500 → "10.500" (packages, purchases, mail). */
export function creditsProseText(amountMc: number): string {
  return creditsExactGroupedText(amountMc).replace(/\.000$/, '');
}

/** A credits form field's value, ungrouped so parseCreditsToMc reads it back: "" for none, 2,500,000 → "2500", 12,500 → "12.500". */
export function creditsFieldText(amountMc: number | null | undefined): string {
  return amountMc === null || amountMc === undefined ? '' : creditsExactText(amountMc).replace(/\.000$/, '');
}

/** Credits as a JSON number (API bodies): exact, every mc value being a whole thousandth. */
export function creditsJsonNumber(amountMc: number): number {
  return amountMc / 1000;
}

/** Dollars as a JSON number (credits ÷ 1,000 = USD, so 1,000,000 mc = $1): exact to the millicredit, not rounded. */
export function usdJsonNumber(amountMc: number): number {
  return amountMc / 1_000_000;
}

/** Cents as a JSON number (1 cent = 10,000 mc): OpenAI's legacy `total_usage` unit, exact to the millicredit. */
export function centsJsonNumber(amountMc: number): number {
  return amountMc / 10_000;
}

/**
 * Dollars per million tokens as a JSON number, from a rate in millicredits per 1k tokens (API
 * bodies: /v1/models' prices): 1 mc per 1k tokens = 1,000 mc per 1M tokens = $0.001 per 1M, so
 * 2,400 mc per 1k → 2.4 ($2.40 per 1M); a whole number of thousandths, written exactly in JSON.
 */
export function usdPer1MTokensJsonNumber(rateMcPer1k: number): number {
  return rateMcPer1k / 1000;
}

/**
 * Dollars per million tokens as text, from a rate in millicredits per 1k tokens (the rate card): the
 * same digits as the rate in credits (1 credit per 1k tokens = $1 per 1M), 2 decimals, a third when
 * there is one: 2,400 → "$2.40", 25,000 → "$25.00", 1 → "$0.001".
 */
export function usdPer1MTokensText(rateMcPer1k: number): string {
  return `$${creditsExactGroupedText(rateMcPer1k).replace(/(\.\d\d)0$/, '$1')}`;
}

/**
 * Parses "12.5", "-3.720", "1000" or "1,000" (grouped as this app writes credits, commas every three
 * digits) into millicredits; null if not such a number with at most 3 decimals.
 */
export function parseCreditsToMc(text: string): number | null {
  const match = /^([+-]?)(\d{1,12}|\d{1,3}(?:,\d{3}){1,3})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!match) return null;
  const whole = Number(match[2]!.replaceAll(',', ''));
  const fraction = Number((match[3] ?? '').padEnd(3, '0'));
  const mc = whole * 1000 + fraction;
  return match[1] === '-' ? -mc : mc;
}

/** Dollars from millicredits, to the cent, rounded down (1 cent = 10,000 mc), never below $0.00: "$1,234.56". */
export function usdRoundedDownText(amountMc: number): string {
  return `$${groupedHundredthsText(Math.floor(Math.max(0, amountMc) / 10_000))}`;
}

/** Dollars from millicredits, to a hundredth of a cent, rounded up, for amounts below a cent: 12,000 mc → "$0.0120" (the estimator). */
export function usdRoundedUpText(amountMc: number): string {
  const tenThousandthsOfDollar = Math.ceil(amountMc / 100);
  return `$${Math.floor(tenThousandthsOfDollar / 10_000)}.${String(tenThousandthsOfDollar % 10_000).padStart(4, '0')}`;
}

/** Dollars from millicents (thousandths of a cent), to a tenth of a cent, rounded to nearest: 95_238 → "$0.952" ($ per 1k credits). */
export function usdFromMillicentsText(millicents: number): string {
  const tenthsOfCent = Math.round(millicents / 100);
  return `$${Math.floor(tenthsOfCent / 1000)}.${String(tenthsOfCent % 1000).padStart(3, '0')}`;
}

/** A price in its currency, from cents: 1000, "usd" → "$10.00"; 1000, "eur" → "10.00 EUR". */
export function priceText(amountCents: number, currency: string): string {
  const sign = amountCents < 0 ? '-' : '';
  const amount = groupedHundredthsText(Math.abs(amountCents));
  return currency.toLowerCase() === 'usd' ? `${sign}$${amount}` : `${sign}${amount} ${currency.toUpperCase()}`;
}

/** A percentage from tenths of a percent, one decimal only when there is one: 48 → "4.8%"; 50 → "5%". */
export function percentFromTenthsText(tenths: number): string {
  return tenths % 10 === 0 ? `${tenths / 10}%` : `${Math.floor(tenths / 10)}.${tenths % 10}%`;
}
