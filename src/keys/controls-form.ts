// Reads a key's controls form: which models (all, or some of the rate card's), the addresses it may be
// used from (one CIDR or address a line; empty = any), the last day it works (empty = never) and its
// requests per minute (empty = no limit). Every bad field is named; nothing is saved unless all are good.
import { canonicalCidr, expiryOfLastDay, MAX_ALLOWED_CIDRS, MAX_ALLOWED_MODELS, MAX_REQUESTS_PER_MINUTE, type KeyControls } from './controls.ts';

/** What was typed, shown again when the form did not save. */
export interface KeyControlsValues {
  /** "all" or "some". */
  models: string;
  allowedModels: string[];
  cidrs: string;
  expires: string;
  requestsPerMinute: string;
}

export type KeyControlsErrors = Partial<Record<'models' | 'cidrs' | 'expires' | 'requests_per_minute', string>>;

/** Longer than 50 of the longest CIDRs with their line breaks: past it the text is not read. */
const MAX_CIDRS_TEXT_LENGTH = 4_000;

function parseModels(values: KeyControlsValues, rateCardModels: readonly string[]): { models: string[] | null } | { error: string } {
  if (values.models === 'all') return { models: null };
  if (values.models !== 'some') return { error: 'Choose all models, or the models this key may call.' };
  const chosen = [...new Set(values.allowedModels)];
  if (chosen.length === 0) return { error: 'Choose at least one model, or allow all models.' };
  if (chosen.length > MAX_ALLOWED_MODELS) return { error: `Choose at most ${MAX_ALLOWED_MODELS} models.` };
  const unknown = chosen.filter((model) => !rateCardModels.includes(model));
  if (unknown.length > 0) return { error: `Not on the rate card: ${unknown.slice(0, 3).join(', ')}.` };
  // In the rate card's order, so the stored list reads the same however the boxes were ticked.
  return { models: rateCardModels.filter((model) => chosen.includes(model)) };
}

function parseCidrs(text: string): { cidrs: string[] | null } | { error: string } {
  if (text.length > MAX_CIDRS_TEXT_LENGTH) return { error: `Enter at most ${MAX_ALLOWED_CIDRS} addresses or ranges.` };
  const lines = text
    .split(/[\r\n,]+/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length === 0) return { cidrs: null };
  if (lines.length > MAX_ALLOWED_CIDRS) return { error: `Enter at most ${MAX_ALLOWED_CIDRS} addresses or ranges.` };
  const bad = lines.filter((line) => canonicalCidr(line) === null);
  if (bad.length > 0) {
    const shown = bad.slice(0, 3).map((line) => `“${line.slice(0, 60)}”`).join(', ');
    return { error: `Not an IP address or CIDR range: ${shown}. Write one a line, such as 203.0.113.7, 198.51.100.0/24 or 2001:db8::/32.` };
  }
  return { cidrs: [...new Set(lines.map((line) => canonicalCidr(line)!))] };
}

function parseExpiry(text: string, nowMs: number): { expiresAtMs: number | null } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { expiresAtMs: null };
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(trimmed);
  const date = match ? { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) } : null;
  // A real calendar day: 2026-02-30 does not come back as itself.
  const real = date !== null && new Date(Date.UTC(date.year, date.month - 1, date.day)).toISOString().slice(0, 10) === trimmed;
  if (!real) return { error: 'Enter the last day the key works as YYYY-MM-DD, or leave it empty for never.' };
  const expiresAtMs = expiryOfLastDay(date);
  if (expiresAtMs <= nowMs) return { error: 'Enter today or a later day (UTC), or leave it empty for never.' };
  return { expiresAtMs };
}

function parseRequestsPerMinute(text: string): { requestsPerMinute: number | null } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { requestsPerMinute: null };
  const value = /^\d{1,5}$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(value >= 1 && value <= MAX_REQUESTS_PER_MINUTE)) return { error: `Enter from 1 to ${MAX_REQUESTS_PER_MINUTE.toLocaleString('en-US')} requests a minute, or leave it empty for no limit.` };
  return { requestsPerMinute: value };
}

export function parseKeyControls(
  values: KeyControlsValues,
  context: { rateCardModels: readonly string[]; nowMs: number },
): { ok: true; controls: KeyControls } | { ok: false; errors: KeyControlsErrors } {
  const models = parseModels(values, context.rateCardModels);
  const cidrs = parseCidrs(values.cidrs);
  const expiry = parseExpiry(values.expires, context.nowMs);
  const rate = parseRequestsPerMinute(values.requestsPerMinute);
  const errors: KeyControlsErrors = {};
  if ('error' in models) errors.models = models.error;
  if ('error' in cidrs) errors.cidrs = cidrs.error;
  if ('error' in expiry) errors.expires = expiry.error;
  if ('error' in rate) errors.requests_per_minute = rate.error;
  if ('error' in models || 'error' in cidrs || 'error' in expiry || 'error' in rate) return { ok: false, errors };
  return { ok: true, controls: { allowedModels: models.models, allowedCidrs: cidrs.cidrs, expiresAtMs: expiry.expiresAtMs, requestsPerMinute: rate.requestsPerMinute } };
}
