// Reads a key's limits form: a monthly limit in credits (empty = none) and calls in flight.
import { parseCreditsToMc } from '../money-text.ts';
import { MAX_MAX_IN_FLIGHT, type KeyLimits } from './keys.ts';

export function parseKeyLimits(monthlyLimit: string, maxInFlight: string): { ok: true; limits: KeyLimits } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const limitText = monthlyLimit.trim();
  const monthlyLimitMc = limitText === '' ? null : parseCreditsToMc(limitText);
  if (limitText !== '' && (monthlyLimitMc === null || monthlyLimitMc <= 0)) errors.monthly_limit = 'Enter a limit above 0 in credits, or leave it empty for none.';
  const flight = /^\d{1,4}$/.test(maxInFlight.trim()) ? Number(maxInFlight.trim()) : NaN;
  if (!(flight >= 1 && flight <= MAX_MAX_IN_FLIGHT)) errors.max_in_flight = `Enter how many calls may run at once, from 1 to ${MAX_MAX_IN_FLIGHT}.`;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, limits: { monthlyLimitMc, maxInFlight: flight } };
}
