// CSV per RFC 4180 for the exports (formats in the README, The Credits tab): quoting, the formula-injection guard on text cells,
// numbers written as numbers, and the two row formats.
import type { ApiKey, LedgerEntry, Usage } from '../db/schema.ts';
import { creditsExactText } from '../money-text.ts';

/** A spreadsheet would run a cell starting with one of these as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell: guarded against formulas, then quoted if it holds a comma, quote or line break. */
export function textCell(value: string): string {
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

const line = (cells: (string | number)[]) => `${cells.join(',')}\r\n`;

export const USAGE_HEADER = line(['date', 'request_id', 'model', 'input_tokens', 'cached_input_tokens', 'output_tokens', 'input_rate', 'cached_input_rate', 'output_rate', 'charged_credits', 'status', 'estimated', 'api_key']);
export const LEDGER_HEADER = line(['date', 'entry_id', 'type', 'amount_credits', 'balance_after_credits', 'reference']);

const isoDate = (ms: number) => new Date(ms).toISOString();

/** `keyPrefixes` maps a key id to its prefix; playground calls have none (empty cell). */
export function usageLine(row: Usage, keyPrefixes: Map<number, string>): string {
  return line([
    isoDate(row.created_at_ms),
    textCell(row.request_id),
    textCell(row.model),
    row.input_tokens,
    row.cached_input_tokens,
    row.output_tokens,
    creditsExactText(row.input_mc_per_1k),
    creditsExactText(row.cached_input_mc_per_1k),
    creditsExactText(row.output_mc_per_1k),
    creditsExactText(row.charged_mc),
    textCell(row.status),
    row.estimated ? 'true' : 'false',
    row.api_key_id === null ? '' : textCell(keyPrefixes.get(row.api_key_id) ?? ''),
  ]);
}

export function ledgerLine(row: LedgerEntry): string {
  return line([isoDate(row.created_at_ms), row.id, textCell(row.type), creditsExactText(row.amount_mc), creditsExactText(row.balance_after_mc), textCell(row.reference)]);
}

export function keyPrefixMap(keys: Pick<ApiKey, 'id' | 'prefix'>[]): Map<number, string> {
  return new Map(keys.map((k) => [k.id, k.prefix]));
}
