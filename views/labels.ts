// How things are named on pages, written once: query modules return data, views word it.
import type { ApiKey, UsageEndpoint } from '../src/db/schema.ts';

/** An API key as the filters, the spend summary and a call's detail name it: "backend (tt_abc12345…)". */
export function keyLabel(key: Pick<ApiKey, 'name' | 'prefix'>): string {
  return `${key.name} (${key.prefix}…)`;
}

/** The API a call went through, as its detail names it (the playground's calls are chat completions). */
export const ENDPOINT_LABELS: Readonly<Record<UsageEndpoint, string>> = {
  chat: 'Chat completions (POST /v1/chat/completions)',
  responses: 'Responses (POST /v1/responses)',
  embeddings: 'Embeddings (POST /v1/embeddings)',
};
