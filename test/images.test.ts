// Images in prompts over real HTTP (official openai SDK → tokentab → fake upstream, images from data
// URLs and from a local image server): the hold counts text plus OpenAI's per-family formula, the
// settle charges the upstream's reported input, refusals name the image's field and change nothing;
// the formulas, header reading and address checks pinned by hand; audit clean after each call.
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import OpenAI from 'openai';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { costMc } from '../src/pricing/cost.ts';
import { holdAmountMc } from '../src/pricing/output-limit.ts';
import { countChatInputTokens, countResponsesInputTokens, holdInputTokens, responsesInputOf } from '../src/gateway/tokens.ts';
import { imageTokens } from '../src/gateway/image-tokens.ts';
import { imageSizeOf, NEED_MORE } from '../src/gateway/image-size.ts';
import { isPrivateAddress } from '../src/gateway/address-guard.ts';
import { gifBytes, jpegBytes, pngBytes, pngDataUrl, startImageServer, webpBytes, type ImageServer } from './fakes/image-server.ts';
import { rateOf } from './helpers/db.ts';
import { balanceOf, gatewaySuite, usageEntries, usageRow, type GatewayHarness } from './helpers/gateway.ts';

const HUNDRED_CREDITS_MC = 100_000_000;
const QUESTION = 'What is in this picture?';
type ApiError = InstanceType<typeof OpenAI.APIError> & { error: Record<string, unknown> };

/** The text tokens of a chat call: its messages without their image parts (an image part has no text). */
function textTokensOf(messages: ChatCompletionMessageParam[]): Promise<number> {
  const withoutImages = messages.map((message) =>
    Array.isArray(message.content) ? { ...message, content: (message.content as ChatCompletionContentPart[]).filter((part) => part.type === 'text') } : message,
  );
  return countChatInputTokens({ messages: withoutImages as never });
}

const userAsks = (...images: ChatCompletionContentPart[]): ChatCompletionMessageParam[] => [{ role: 'user', content: [{ type: 'text', text: QUESTION }, ...images] }];
const image = (url: string, detail: 'low' | 'high' | 'auto'): ChatCompletionContentPart => ({ type: 'image_url', image_url: { url, detail } });

/** Nothing held, written or sent for a refused call. */
async function assertNothingCharged(h: GatewayHarness, userId: number) {
  assert.is(h.fake.requests.length, 0, 'nothing reached the upstream');
  assert.equal(await h.db.selectFrom('holds').select('id').where('user_id', '=', userId).execute(), [], 'no hold');
  assert.equal(await usageEntries(h, userId), [], 'no usage entry');
  assert.equal(await balanceOf(h, userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
}

async function refusal(work: Promise<unknown>): Promise<ApiError> {
  try {
    await work;
  } catch (error) {
    assert.instance(error, OpenAI.APIError);
    return error as ApiError;
  }
  throw new Error('expected a refusal');
}

// ── The formulas, by hand ────────────────────────────────────────────────────────────────────────

const formulas = suite('image token formulas');

formulas('tile models: low is the base; high fits 2048, shortens the short side to 768, adds each 512 px tile', () => {
  // gpt-4o-mini: 2,833 + 5,667 a tile. 1024 × 1024 → 768 × 768: 2 × 2 tiles.
  assert.is(imageTokens('gpt-4o-mini', { width: 1024, height: 1024 }, 'high'), 2_833 + 4 * 5_667);
  assert.is(imageTokens('gpt-4o-mini', { width: 1024, height: 1024 }, 'low'), 2_833);
  assert.is(imageTokens('gpt-4o-mini', { width: 1024, height: 1024 }, 'auto'), 2_833 + 4 * 5_667, 'auto is counted as high');
  // gpt-4o: 85 + 170 a tile. 4096 × 8192 → 1024 × 2048 → 768 × 1536: 2 × 3 tiles (OpenAI's own example, 1,105).
  assert.is(imageTokens('gpt-4o', { width: 4096, height: 8192 }, 'high'), 1_105);
  assert.is(imageTokens('gpt-4o', { width: 4096, height: 8192 }, 'low'), 85);
  // Small images are not scaled up: 150 × 150 is one tile; 600 × 300 two.
  assert.is(imageTokens('gpt-4o', { width: 150, height: 150 }, 'high'), 85 + 170);
  assert.is(imageTokens('gpt-4o', { width: 600, height: 300 }, 'high'), 85 + 2 * 170);
  // 2000 × 1000 → 1536 × 768: 3 × 2 tiles, exactly (no rounding up to a third row).
  assert.is(imageTokens('gpt-4o', { width: 2000, height: 1000 }, 'high'), 85 + 6 * 170);
  // A dated snapshot is its model's.
  assert.is(imageTokens('gpt-4o-2024-08-06', { width: 2000, height: 1000 }, 'high'), 85 + 6 * 170);
});

formulas('patch models: 32 px patches capped at 1,536, times the multiplier, rounded up', () => {
  // gpt-4.1-mini ×1.62: 1024 × 1024 = 32 × 32 patches → 1,658.88 → 1,659.
  assert.is(imageTokens('gpt-4.1-mini', { width: 1024, height: 1024 }, 'high'), 1_659);
  // o4-mini ×1.72: 1800 × 2400 = 57 × 75 = 4,275 patches, capped at 1,536 → 2,641.92 → 2,642.
  assert.is(imageTokens('o4-mini', { width: 1800, height: 2400 }, 'low'), 2_642);
});

formulas('a model of no known family is counted at the most any family counts (gpt-4o-mini’s tiles)', () => {
  assert.is(imageTokens('my-local-llava', { width: 1024, height: 1024 }, 'high'), 2_833 + 4 * 5_667);
  // At low detail the largest is the patch formula's, 1024 patches × 2.46 = 2,519.04 → 2,520, below 2,833.
  assert.is(imageTokens('my-local-llava', { width: 1024, height: 1024 }, 'low'), 2_833);
  assert.is(imageTokens('my-local-llava', { width: 4000, height: 4000 }, 'low'), Math.ceil(1_536 * 2.46));
});

formulas('sizes from headers: PNG, JPEG behind 100 KB of metadata, GIF, WebP; more bytes asked for; junk refused', () => {
  assert.equal(imageSizeOf(pngBytes(1234, 567), true), { width: 1234, height: 567 });
  assert.equal(imageSizeOf(jpegBytes(4096, 8192, 100_000), true), { width: 4096, height: 8192 });
  assert.is(imageSizeOf(jpegBytes(4096, 8192, 100_000).subarray(0, 50_000), false), NEED_MORE);
  assert.equal(imageSizeOf(gifBytes(320, 200), true), { width: 320, height: 200 });
  assert.equal(imageSizeOf(webpBytes(16_000, 9_000), true), { width: 16_000, height: 9_000 });
  assert.is(imageSizeOf(pngBytes(10, 10).subarray(0, 20), false), NEED_MORE);
  assert.throws(() => imageSizeOf(pngBytes(10, 10).subarray(0, 20), true), /ends before its size/);
  assert.throws(() => imageSizeOf(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), true), /not a PNG, JPEG, GIF or WebP/);
  assert.throws(() => imageSizeOf(pngBytes(0, 10), true), /width or height of 0/);
});

formulas('private, loopback, link-local, CGNAT, multicast and unspecified addresses, IPv4 and IPv6 and IPv4-mapped, are not public', () => {
  for (const address of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', '127.9.9.9', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::a00:1', 'not an address']) {
    assert.ok(isPrivateAddress(address), `${address} is refused`);
  }
  for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    assert.not.ok(isPrivateAddress(address), `${address} is public`);
  }
});

formulas.run();

// ── Over HTTP, with a local image server (IMAGE_FETCH_ALLOW_PRIVATE=1) ────────────────────────────

let images: ImageServer;
const IMAGE_TIMEOUT_SECONDS = 2;
const gateway = gatewaySuite('images in prompts', { env: { IMAGE_FETCH_ALLOW_PRIVATE: '1', IMAGE_FETCH_TIMEOUT_SECONDS: String(IMAGE_TIMEOUT_SECONDS) } });
gateway.before(async () => {
  images = await startImageServer();
});
gateway.after(async () => images.close());

gateway('chat, a data-URL PNG and a fetched JPEG at low and high detail, whole and streamed: held at text + the formula, charged the reported usage exactly, forwarded unchanged', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const cases = [
    // gpt-4o-mini, 1024 × 1024 PNG: high 2,833 + 4 × 5,667; low 2,833.
    { model: 'gpt-4o-mini', messages: userAsks(image(pngDataUrl(1024, 1024), 'high')), imageTokens: 25_501 },
    { model: 'gpt-4o-mini', messages: userAsks(image(pngDataUrl(1024, 1024), 'low')), imageTokens: 2_833 },
    // gpt-4o, a 4096 × 8192 JPEG behind 100 KB of metadata, fetched: high 1,105 (6 tiles), low 85.
    { model: 'gpt-4o', messages: userAsks(image(`${images.url}/jpeg/4096/8192/100000`, 'high')), imageTokens: 1_105 },
    // Behind 5 MB of metadata, walked past without being kept.
    { model: 'gpt-4o', messages: userAsks(image(`${images.url}/jpeg/4096/8192/5000000`, 'low'), image(pngDataUrl(150, 150), 'auto')), imageTokens: 85 + 255 },
  ];
  for (const { model, messages, imageTokens: expectedImageTokens } of cases) {
    const rate = await rateOf(h.db, model);
    const text = await textTokensOf(messages);
    // What OpenAI would report: a little under the hold's count, as its own rendering differs.
    const reported = { prompt_tokens: text + expectedImageTokens - 3, completion_tokens: 21, cached_tokens: 0 };
    h.fake.queueBehaviours({ kind: 'ok', usage: reported });
    const { data, response } = await account.client.chat.completions.create({ model, messages, max_tokens: 200 }).withResponse();
    assert.is(data.usage?.prompt_tokens, reported.prompt_tokens);
    const row = await usageRow(h, response.headers.get('x-request-id')!);
    assert.is(row.hold_mc, holdAmountMc(rate, 'exact', holdInputTokens(text + expectedImageTokens), 200), `${model}: held at text ${text} + images ${expectedImageTokens}`);
    const charged = costMc({ inputTokens: reported.prompt_tokens, cachedInputTokens: 0, outputTokens: 21 }, rate, 'exact');
    assert.is(row.charged_mc, charged);
    assert.is(row.input_tokens, reported.prompt_tokens);
    assert.is(response.headers.get('x-credits-charged'), (charged / 1000).toFixed(3));
    assert.equal(h.fake.lastRequest!.body.messages, messages, 'the images reach the upstream as sent');
  }
  assert.ok(images.requests.filter((path) => path.startsWith('/jpeg/')).length >= 2, 'the JPEG was fetched for its size');

  // Streamed: the same hold, settled at the usage chunk.
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const messages = userAsks(image(pngDataUrl(1024, 1024), 'auto'));
  const text = await textTokensOf(messages);
  h.fake.queueBehaviours({ kind: 'ok', usage: { prompt_tokens: text + 25_490, completion_tokens: 9 } });
  const { data: stream, response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 100, stream: true }).withResponse();
  for await (const _ of stream);
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.hold_mc, holdAmountMc(rate, 'exact', holdInputTokens(text + 25_501), 100));
  assert.is(row.charged_mc, costMc({ inputTokens: text + 25_490, cachedInputTokens: 0, outputTokens: 9 }, rate, 'exact'));
  assert.is(row.estimated, 0);
});

gateway('Responses input_image (data URL and fetched, through a redirect): held at text + the formula, charged the reported usage', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const model = 'gpt-4o';
  const rate = await rateOf(h.db, model);
  const input: ResponseInputItem[] = [
    {
      role: 'user',
      content: [
        { type: 'input_text', text: QUESTION },
        // 2000 × 1000 → 1536 × 768: 6 tiles, 1,105.
        { type: 'input_image', image_url: pngDataUrl(2000, 1000), detail: 'high' },
        // 600 × 300, two redirects away: 2 tiles, 425.
        { type: 'input_image', image_url: `${images.url}/redirect/2/png/600/300`, detail: 'auto' },
      ],
    },
  ];
  const text = await countResponsesInputTokens(responsesInputOf({ input: [{ role: 'user', content: [{ type: 'input_text', text: QUESTION }] }] } as never));
  const reported = { prompt_tokens: text + 1_105 + 425, completion_tokens: 40 };
  h.fake.queueBehaviours({ kind: 'ok', usage: reported });
  const { response } = await account.client.responses.create({ model, input, max_output_tokens: 300 }).withResponse();
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.hold_mc, holdAmountMc(rate, 'exact', holdInputTokens(text + 1_105 + 425), 300));
  assert.is(row.charged_mc, costMc({ inputTokens: reported.prompt_tokens, cachedInputTokens: 0, outputTokens: 40 }, rate, 'exact'));
  assert.is(row.endpoint, 'responses');
  assert.equal(h.fake.lastRequest!.body.input, input, 'forwarded as sent');
  assert.ok(images.requests.includes('/png/600/300'), 'the redirect was followed');
});

gateway('an image URL that never answers is refused within the time limit, naming its field, while /healthz keeps answering; nothing charged', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  let healthChecks = 0;
  let slowestHealthMs = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const started = performance.now();
      const health = await fetch(`${h.url}/healthz`);
      await health.arrayBuffer();
      assert.is(health.status, 200);
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
      healthChecks++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const started = performance.now();
  const error = await refusal(account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: userAsks(image(pngDataUrl(10, 10), 'low'), image(`${images.url}/hang`, 'high')) }));
  const tookMs = performance.now() - started;
  polling = false;
  await poll;
  assert.is(error.status, 400);
  assert.is(error.param, 'messages[0].content[2].image_url.url');
  assert.is(error.code, 'invalid_image_url');
  assert.match(error.message, /could not be fetched: it did not answer in time/);
  assert.ok(tookMs >= IMAGE_TIMEOUT_SECONDS * 1000 - 50 && tookMs < IMAGE_TIMEOUT_SECONDS * 1000 + 1_000, `refused after the time limit, took ${Math.round(tookMs)} ms`);
  assert.ok(healthChecks >= 10, `/healthz answered ${healthChecks} times meanwhile`);
  assert.ok(slowestHealthMs < 250, `/healthz answered within 250 ms, slowest ${Math.round(slowestHealthMs)} ms`);
  await assertNothingCharged(h, account.userId);
});

gateway('image URLs are fetched at most 4 at once for one request and 16 at once for the whole server; the same URL twice is fetched once', async ({ h }) => {
  const account = await h.account(10 * HUNDRED_CREDITS_MC);
  // gpt-4o at low detail: 85 an image.
  const slowImages = (call: number) => Array.from({ length: 12 }, (_, index) => image(`${images.url}/slow/150/64/64?call=${call}&image=${index}`, 'low'));
  images.resetMostAtOnce();
  const seenBefore = images.requests.length;
  const messages = userAsks(...slowImages(0), image(`${images.url}/slow/150/64/64?call=0&image=0`, 'low'));
  const text = await textTokensOf(messages);
  h.fake.queueBehaviours({ kind: 'ok', usage: { prompt_tokens: text + 13 * 85, completion_tokens: 3 } });
  const { response } = await account.client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 10 }).withResponse();
  assert.is((await usageRow(h, response.headers.get('x-request-id')!)).hold_mc, holdAmountMc(await rateOf(h.db, 'gpt-4o'), 'exact', holdInputTokens(text + 13 * 85), 10));
  assert.is(images.mostAtOnce, 4, 'one request: 4 at once');
  assert.is(images.requests.length - seenBefore, 12, 'the repeated URL fetched once');

  images.resetMostAtOnce();
  const calls = Array.from({ length: 6 }, (_, call) => account.client.chat.completions.create({ model: 'gpt-4o', messages: userAsks(...slowImages(call + 1)), max_tokens: 10 }));
  await Promise.all(calls);
  assert.ok(images.mostAtOnce > 4 && images.mostAtOnce <= 16, `six requests: at most 16 at once, saw ${images.mostAtOnce}`);
});

gateway('a request whose image URLs each answer in time but together take too long is refused at 3 times the limit, naming the first image not read', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  // 14 URLs of 1.9 s each, 4 at a time: 7.6 s in all, past the request's 6 s (3 × 2 s).
  const messages = userAsks(...Array.from({ length: 14 }, (_, index) => image(`${images.url}/slow/1900/64/64?deadline=${index}`, 'low')));
  const started = performance.now();
  const error = await refusal(account.client.chat.completions.create({ model: 'gpt-4o', messages }));
  const tookMs = performance.now() - started;
  assert.is(error.status, 400);
  assert.is(error.code, 'invalid_image_url');
  assert.match(error.param ?? '', /^messages\[0\]\.content\[(13|14)\]\.image_url\.url$/);
  assert.match(error.message, /could not be fetched in time: a request's image URLs must all be read within 6 s/);
  assert.ok(tookMs >= 3 * IMAGE_TIMEOUT_SECONDS * 1000 - 50 && tookMs < 3 * IMAGE_TIMEOUT_SECONDS * 1000 + 1_000, `refused at the request's limit, took ${Math.round(tookMs)} ms`);
  await assertNothingCharged(h, account.userId);
});

gateway('501 images are refused at once, before any is read; 500 are taken', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const tiny = pngDataUrl(16, 16);
  const many = (count: number) => userAsks(...Array.from({ length: count }, () => image(tiny, 'low')));
  const started = performance.now();
  const error = await refusal(account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: many(501) }));
  assert.ok(performance.now() - started < 1_000, 'refused fast');
  assert.is(error.status, 400);
  assert.is(error.param, 'messages');
  assert.is(error.code, 'too_many_images');
  assert.match(error.message, /501 images; at most 500/);
  // Each of the 500 counted: 2,833 at low detail on gpt-4o-mini.
  const responsesError = await refusal(
    account.client.responses.create({ model: 'gpt-4o-mini', input: [{ role: 'user', content: Array.from({ length: 501 }, () => ({ type: 'input_image' as const, image_url: tiny, detail: 'low' as const })) }] }),
  );
  assert.is(responsesError.param, 'input');
  await assertNothingCharged(h, account.userId);

  const messages = many(500);
  const text = await textTokensOf(messages);
  h.fake.queueBehaviours({ kind: 'ok', usage: { prompt_tokens: text + 500 * 2_833, completion_tokens: 5 } });
  const { response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 50 }).withResponse();
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.hold_mc, holdAmountMc(await rateOf(h.db, 'gpt-4o-mini'), 'exact', holdInputTokens(text + 500 * 2_833), 50));
});

gateway('images that cannot be sized, audio, files and file_id images are refused with 400 naming the field; nothing charged', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const closedPort = await (async () => {
    const probe = await startImageServer();
    const url = probe.url;
    await probe.close();
    return url;
  })();
  const chatCases: { part: ChatCompletionContentPart | Record<string, unknown>; param: string; code: string; words: RegExp }[] = [
    { part: image('data:image/png;base64,aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGFuIGltYWdl', 'high'), param: 'messages[0].content[1].image_url.url', code: 'invalid_image_format', words: /not a PNG, JPEG, GIF or WebP image/ },
    { part: image('data:text/plain,hello', 'high'), param: 'messages[0].content[1].image_url.url', code: 'invalid_image_format', words: /not base64 image data/ },
    { part: image(`${images.url}/text`, 'high'), param: 'messages[0].content[1].image_url.url', code: 'invalid_image_format', words: /not a PNG, JPEG, GIF or WebP image/ },
    { part: image(`${images.url}/not-found`, 'high'), param: 'messages[0].content[1].image_url.url', code: 'invalid_image_url', words: /it answered 404/ },
    { part: image(`${closedPort}/png/10/10`, 'high'), param: 'messages[0].content[1].image_url.url', code: 'invalid_image_url', words: /connection was refused/ },
    { part: image(`${images.url}/redirect/4/png/10/10`, 'high'), param: 'messages[0].content[1].image_url.url', code: 'invalid_image_url', words: /redirects more than 3 times/ },
    { part: image('ftp://example.com/a.png', 'high'), param: 'messages[0].content[1].image_url.url', code: 'invalid_image_url', words: /must be an http\(s\) URL or a data URL/ },
    // A JPEG whose size lies past the 20 MB read at most.
    { part: image(`${images.url}/jpeg/100/100/21000000`, 'high'), param: 'messages[0].content[1].image_url.url', code: 'invalid_image_url', words: /not within its first 20 MB/ },
    { part: { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }, param: 'messages[0].content[1]', code: 'unsupported_content', words: /'input_audio', which is not supported yet/ },
    { part: { type: 'file', file: { file_id: 'file-1' } }, param: 'messages[0].content[1]', code: 'unsupported_content', words: /'file', which is not supported yet/ },
    { part: { type: 'image_url', image_url: { url: pngDataUrl(10, 10), detail: 'huge' } }, param: 'messages[0].content[1].image_url.detail', code: '', words: /must be one of "auto", "low", "high"/ },
  ];
  for (const { part, param, code, words } of chatCases) {
    const error = await refusal(account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: userAsks(part as ChatCompletionContentPart) }));
    assert.is(error.status, 400, param);
    assert.is(error.param, param);
    if (code) assert.is(error.code, code, `${param}: ${error.message}`);
    assert.match(error.message, words);
  }
  const responsesCases: { part: Record<string, unknown>; param: string; words: RegExp }[] = [
    { part: { type: 'input_image', file_id: 'file-abc', detail: 'auto' }, param: 'input[0].content[1].file_id', words: /cannot be sized/ },
    { part: { type: 'input_image', detail: 'auto' }, param: 'input[0].content[1].image_url', words: /is required/ },
    { part: { type: 'input_image', image_url: pngDataUrl(10, 10), detail: 'original' }, param: 'input[0].content[1].detail', words: /'original', which is not supported yet/ },
    { part: { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }, param: 'input[0].content[1]', words: /'input_audio', which is not supported yet/ },
    { part: { type: 'input_image', image_url: `${images.url}/text`, detail: 'low' }, param: 'input[0].content[1].image_url', words: /not a PNG/ },
  ];
  for (const { part, param, words } of responsesCases) {
    const input = [{ role: 'user', content: [{ type: 'input_text', text: QUESTION }, part] }] as unknown as ResponseInputItem[];
    const error = await refusal(account.client.responses.create({ model: 'gpt-4o-mini', input }));
    assert.is(error.status, 400, param);
    assert.is(error.param, param);
    assert.match(error.message, words);
  }
  await assertNothingCharged(h, account.userId);
});

gateway.run();

// ── The address check on (the default) ────────────────────────────────────────────────────────────

const guarded = gatewaySuite('image URLs on private addresses');
guarded.before(async () => {
  images = await startImageServer();
});
guarded.after(async () => images.close());

guarded('an image URL on a private or loopback address, by IP or by name, is refused without being fetched', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const port = new URL(images.url).port;
  for (const url of [`${images.url}/png/10/10`, `http://localhost:${port}/png/10/10`, `http://[::1]:${port}/png/10/10`, `http://[::ffff:127.0.0.1]:${port}/png/10/10`, 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/a.png']) {
    const error = await refusal(account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: userAsks(image(url, 'low')) }));
    assert.is(error.status, 400, url);
    assert.is(error.param, 'messages[0].content[1].image_url.url');
    assert.is(error.code, 'invalid_image_url');
    assert.match(error.message, /private, loopback or otherwise non-public address/, url);
  }
  assert.equal(images.requests, [], 'the image server was never asked');
  await assertNothingCharged(h, account.userId);
});

guarded.run();

// ── The demo model ────────────────────────────────────────────────────────────────────────────────

const demo = gatewaySuite('images with the demo model', { env: { OPENAI_API_KEY: '', IMAGE_FETCH_ALLOW_PRIVATE: '1' } });
demo.before(async () => {
  images = await startImageServer();
});
demo.after(async () => images.close());

demo('without an upstream key the demo model takes image prompts and reports their tokens by the same formula; charged exactly that', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const messages = userAsks(image(pngDataUrl(1024, 1024), 'high'));
  const text = await textTokensOf(messages);
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300 }).withResponse();
  assert.is(data.usage!.prompt_tokens, text + 25_501);
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.input_tokens, text + 25_501);
  assert.is(row.charged_mc, costMc({ inputTokens: text + 25_501, cachedInputTokens: 0, outputTokens: data.usage!.completion_tokens }, rate, 'exact'));

  const input: ResponseInputItem[] = [{ role: 'user', content: [{ type: 'input_text', text: QUESTION }, { type: 'input_image', image_url: pngDataUrl(1024, 1024), detail: 'low' }] }];
  const answer = await account.client.responses.create({ model: 'gpt-4o-mini', input });
  const responsesText = await countResponsesInputTokens(responsesInputOf({ input: [{ role: 'user', content: [{ type: 'input_text', text: QUESTION }] }] } as never));
  assert.is(answer.usage!.input_tokens, responsesText + 2_833);

  // A URL: the demo reads its size as the hold does, with the server's options (a private address allowed here).
  const fetched = userAsks(image(`${images.url}/jpeg/4096/8192/1000`, 'high'));
  const withUrl = await account.client.chat.completions.create({ model: 'gpt-4o', messages: fetched, max_tokens: 300 });
  assert.is(withUrl.usage!.prompt_tokens, (await textTokensOf(fetched)) + 1_105);
  assert.is(images.requests.filter((path) => path === '/jpeg/4096/8192/1000').length, 2, 'fetched for the hold and by the demo model');
});

demo.run();
