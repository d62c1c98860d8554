// Malformed Responses bodies from a seeded generator (test/helpers/body-fuzz.ts, as gateway-fuzz does
// for chat), posted to /v1/responses: each is a 400 naming the broken field, never a 500 or 502, and
// nothing is reserved, charged or sent.
import { fuzzSuite, type Json, type Site } from './helpers/body-fuzz.ts';

const SEED = 0x4_e_5_b_0;
const BODIES = 1_500;

/** A valid call that uses every field tokentab forwards. */
const VALID_BODY: { [key: string]: Json } = {
  model: 'gpt-4o-mini',
  instructions: 'You are terse.',
  input: [
    { role: 'developer', content: 'Answer in English.' },
    { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Be exact.' }], status: 'completed' },
    { role: 'user', content: [{ type: 'input_text', text: 'What is the weather?' }] },
    { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', id: 'fc_1', status: 'completed' },
    { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'Sunny.' }] },
    { type: 'custom_tool_call', call_id: 'call_2', name: 'sql', input: 'select 1', id: 'ctc_1' },
    { type: 'custom_tool_call_output', call_id: 'call_2', output: '1' },
    {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      status: 'completed',
      phase: 'final_answer',
      content: [
        { type: 'output_text', text: 'Sunny in Paris.', annotations: [], logprobs: [] },
        { type: 'refusal', refusal: 'Not that.' },
      ],
    },
    { role: 'user', content: 'Thanks.' },
  ],
  max_output_tokens: 50,
  stream: false,
  tools: [
    { type: 'function', name: 'get_weather', description: 'The weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false },
    { type: 'custom', name: 'sql', description: 'Runs SQL', format: { type: 'text' } },
  ],
  tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_weather' }] },
  parallel_tool_calls: true,
  max_tool_calls: 3,
  text: { format: { type: 'json_schema', name: 'answer', description: 'The answer', schema: { type: 'object' }, strict: true }, verbosity: 'low' },
  reasoning: { effort: 'low', summary: 'auto' },
  include: ['message.output_text.logprobs'],
  temperature: 0.5,
  top_p: 0.9,
  top_logprobs: 2,
  truncation: 'disabled',
  metadata: { team: 'billing' },
  user: 'customer-1',
  safety_identifier: 'hash-1',
  prompt_cache_key: 'cache-1',
  prompt_cache_retention: 'in-memory',
  service_tier: 'auto',
  store: false,
  background: false,
};

/** Item fields each item type needs; a message's `type` may be left out. */
const REQUIRED_IN_ITEM: Record<string, string[]> = {
  message: ['role', 'content'],
  function_call: ['call_id', 'name', 'arguments'],
  function_call_output: ['call_id', 'output'],
  custom_tool_call: ['call_id', 'name', 'input'],
  custom_tool_call_output: ['call_id', 'output'],
};

/**
 * Keys the call cannot do without, where they are. An item without a `type` is read as a message (as
 * OpenAI reads it), so a tool call's missing type is reported as a missing role: not a target here.
 */
function isRequired(site: Site): boolean {
  const key = site.path[site.path.length - 1];
  if (typeof key !== 'string' || site.parent === null || Array.isArray(site.parent)) return false;
  if (site.path.length === 1) return key === 'model' || key === 'input';
  const isItem = site.path.length === 3 && site.path[0] === 'input';
  if (isItem) return (REQUIRED_IN_ITEM[String(site.parent.type ?? 'message')] ?? []).includes(key);
  if (key === 'refusal') return site.parent.type === 'refusal';
  if (key === 'tools' || key === 'mode') return site.path[0] === 'tool_choice';
  return ['type', 'text', 'name'].includes(key);
}

fuzzSuite(
  'responses fuzz',
  {
    path: '/v1/responses',
    validBody: VALID_BODY,
    // An earlier answer's annotations and logprobs are free-form too: accepted whole, not forwarded.
    freeFormKeys: new Set(['parameters', 'format', 'schema', 'annotations', 'logprobs']),
    enumKeys: new Set(['role', 'type', 'mode', 'status', 'phase', 'effort', 'summary', 'verbosity', 'truncation', 'service_tier', 'prompt_cache_retention']),
    enumLists: new Set(['include']),
    identifierKeys: new Set(['user', 'safety_identifier', 'prompt_cache_key', 'id', 'call_id', 'model']),
    isRequired,
  },
  SEED,
  BODIES,
);
