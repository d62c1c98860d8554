// Credits from integer millicredits: text for views and the CLI, numbers for API bodies, and the
// parser that reads a typed amount back into millicredits.

/** Credits with exactly 3 decimals: 12000 → "12.000", -3720 → "-3.720". */
export function creditsText(amountMc: number): string {
  const sign = amountMc < 0 ? '-' : '';
  const abs = Math.abs(amountMc);
  return `${sign}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}

/** Credits with exactly 3 decimals and thousands separators: -1234567 → "-1,234.567" (tables). */
export function groupedCreditsText(amountMc: number): string {
  const [whole, fraction] = creditsText(amountMc).split('.');
  const negative = whole!.startsWith('-');
  return `${negative ? '-' : ''}${Number(whole!.replace('-', '')).toLocaleString('en-US')}.${fraction}`;
}

/** Millicredits as a JSON number of credits (API bodies): exact, every mc value being a whole thousandth. */
export function creditsNumber(amountMc: number): number {
  return amountMc / 1000;
}

/** Parses "12.5", "-3.720" or "1000" into millicredits; null if not a number with at most 3 decimals. */
export function parseCreditsToMc(text: string): number | null {
  const match = /^([+-]?)(\d{1,12})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!match) return null;
  const whole = Number(match[2]);
  const fraction = Number((match[3] ?? '').padEnd(3, '0'));
  const mc = whole * 1000 + fraction;
  return match[1] === '-' ? -mc : mc;
}
