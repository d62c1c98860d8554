// Money for the eye: credits and dollars from integer millicredits and cents, never parsed back
// (except optionalCredits, a form field's value that the form's parser reads).
import { creditsText, groupedCreditsText } from '../src/pricing/format.ts';

const grouped = (whole: number) => whole.toLocaleString('en-US');

/** Balance-card credits: 2 decimals, rounded down (1234567 mc → "1,234.56"). */
export function creditsRoundedDown(amountMc: number): string {
  const sign = amountMc < 0 ? '-' : '';
  const hundredths = Math.floor(Math.abs(amountMc) / 10);
  return `${sign}${grouped(Math.floor(hundredths / 100))}.${String(hundredths % 100).padStart(2, '0')}`;
}

/** Dollars rounded down to the cent: 1 cent = 10,000 mc. */
export function usdRoundedDown(amountMc: number): string {
  const cents = Math.floor(Math.max(0, amountMc) / 10_000);
  return `$${grouped(Math.floor(cents / 100))}.${String(cents % 100).padStart(2, '0')}`;
}

/** Table credits: exactly 3 decimals with thousands separators ("-1,234.567"). */
export const creditsDisplay = groupedCreditsText;

/** An estimate in dollars with 4 decimals, for amounts below a cent (12,000 mc → "$0.0120"). */
export function usdEstimate(amountMc: number): string {
  const tenThousandthsOfDollar = Math.ceil(amountMc / 100);
  return `$${Math.floor(tenThousandthsOfDollar / 10_000)}.${String(tenThousandthsOfDollar % 10_000).padStart(4, '0')}`;
}

/** 48 → "4.8%"; 50 → "5%". */
export function percentFromTenths(tenths: number): string {
  return tenths % 10 === 0 ? `${tenths / 10}%` : `${Math.floor(tenths / 10)}.${tenths % 10}%`;
}

export function tokensDisplay(count: number): string {
  return grouped(count);
}

/** A credits field's value, ungrouped so the form's parser reads it back: "" for none, 2,500,000 mc → "2500", 12,500 mc → "12.500". */
export function optionalCredits(mc: number | null | undefined): string {
  return mc === null || mc === undefined ? '' : creditsText(mc).replace(/\.000$/, '');
}
