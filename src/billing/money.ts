// Purchase amounts for people (pages and mail): prices in their currency, credits grouped by thousands.
import { groupedCreditsText } from '../pricing/format.ts';

/** 1000, "usd" → "$10.00"; 1000, "eur" → "10.00 EUR". */
export function priceText(amountCents: number, currency: string): string {
  const sign = amountCents < 0 ? '-' : '';
  const abs = Math.abs(amountCents);
  const amount = `${Math.floor(abs / 100).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
  return currency.toLowerCase() === 'usd' ? `${sign}$${amount}` : `${sign}${amount} ${currency.toUpperCase()}`;
}

/** 10_000_000 mc → "10,000"; 10_500 mc → "10.500" (decimals only when there are any). */
export function creditsAmountText(amountMc: number): string {
  return groupedCreditsText(amountMc).replace(/\.000$/, '');
}
