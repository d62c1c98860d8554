// Thousands of malformed chat bodies from a seeded generator (test/helpers/body-fuzz.ts), posted to
// /v1/chat/completions: each is a 400 naming the broken field (never a 500 or 502), and nothing is
// reserved, charged or sent. Every body is one valid call with one thing broken in it: a wrong type, a
// missing required field, a value out of range or not among the accepted ones, an unknown field,
// nesting past the limit, or a list (or identifier) past its bound; each field of the call is a target.
import { fuzzSuite, type Json, type Site } from './helpers/body-fuzz.ts';

const SEED = 0x7_0_c_e_4;
const BODIES = 3_000;

/** A valid call that uses every field tokentab forwards. */
const VALID_BODY: { [key: string]: Json } = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }], name: 'ops' },
    { role: 'user', content: [{ type: 'text', text: 'What is the weather?' }], name: 'ada' },
    {
      role: 'assistant',
      content: [{ type: 'text', text: 'Checking.' }, { type: 'refusal', refusal: 'Not that.' }],
      refusal: 'Not that.',
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'custom', custom: { name: 'sql', input: 'select 1' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'Sunny.' }] },
    { role: 'assistant', content: 'Looking it up.', function_call: { name: 'lookup', arguments: '{}' } },
    { role: 'function', name: 'lookup', content: 'found' },
    { role: 'user', content: 'Thanks.' },
  ],
  max_tokens: 50,
  n: 1,
  stream: false,
  temperature: 0.5,
  top_p: 0.9,
  presence_penalty: 0.1,
  frequency_penalty: -0.1,
  stop: ['\n\n', 'END'],
  logit_bias: { '1234': -5 },
  logprobs: true,
  top_logprobs: 2,
  seed: 42,
  user: 'customer-1',
  safety_identifier: 'hash-1',
  prompt_cache_key: 'cache-1',
  prompt_cache_retention: 'in-memory',
  tools: [
    { type: 'function', function: { name: 'get_weather', description: 'The weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false } },
    { type: 'custom', custom: { name: 'sql', description: 'Runs SQL', format: { type: 'text' } } },
  ],
  tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather' } }] } },
  parallel_tool_calls: true,
  functions: [{ name: 'lookup', description: 'Looks up', parameters: { type: 'object' } }],
  function_call: { name: 'lookup' },
  response_format: { type: 'json_schema', json_schema: { name: 'answer', description: 'The answer', schema: { type: 'object' }, strict: true } },
  prediction: { type: 'content', content: [{ type: 'text', text: 'Sunny' }] },
  service_tier: 'auto',
  metadata: { team: 'billing' },
  store: false,
  reasoning_effort: 'low',
  verbosity: 'low',
  modalities: ['text'],
};

/** Keys the call cannot do without, where they are (a message's content is optional only for an assistant). */
function isRequired(site: Site): boolean {
  const key = site.path[site.path.length - 1];
  if (typeof key !== 'string' || site.parent === null || Array.isArray(site.parent)) return false;
  if (site.path.length === 1) return key === 'model' || key === 'messages';
  const isMessage = site.path.length === 3 && site.path[0] === 'messages';
  if (isMessage) {
    const role = site.parent.role;
    if (key === 'role') return true;
    if (key === 'content') return role !== 'assistant';
    if (key === 'tool_call_id') return role === 'tool';
    if (key === 'name') return role === 'function';
    return false;
  }
  if (key === 'refusal') return site.parent.type === 'refusal';
  if (key === 'tools') return site.path.includes('allowed_tools');
  return ['type', 'text', 'id', 'function', 'custom', 'name', 'arguments', 'input', 'json_schema', 'allowed_tools', 'mode', 'content'].includes(key);
}

fuzzSuite(
  'gateway fuzz',
  {
    path: '/v1/chat/completions',
    validBody: VALID_BODY,
    freeFormKeys: new Set(['parameters', 'format', 'schema']),
    enumKeys: new Set(['role', 'type', 'mode', 'service_tier', 'reasoning_effort', 'verbosity', 'prompt_cache_retention']),
    enumLists: new Set(['modalities']),
    identifierKeys: new Set(['user', 'safety_identifier', 'prompt_cache_key', 'id', 'tool_call_id', 'model']),
    isRequired,
  },
  SEED,
  BODIES,
);
