// How things are named on pages, written once: query modules return data, views word it.
import type { ApiKey } from '../src/db/schema.ts';

/** An API key as the filters, the spend summary and a call's detail name it: "backend (tt_abc12345…)". */
export function keyLabel(key: Pick<ApiKey, 'name' | 'prefix'>): string {
  return `${key.name} (${key.prefix}…)`;
}
