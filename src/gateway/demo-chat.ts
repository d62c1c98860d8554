// The demo model's chat completions (POST …/chat/completions): OpenAI's checks on what the answer
// depends on, then the reply as a chat.completion or its chunks, usage counted with the real tokenizer.
import { DEMO_CHAT_MODELS, isPositiveWhole, limitedText, streamOptionsRefusal, type DemoEndpoint } from './demo-answer.ts';
import { MOST_CHOICES } from './chat-schema.ts';
import { demoReplyText } from './demo-reply.ts';
import { chatImages, promptImageTokens } from './image-tokens.ts';
import { chatCompletion, newCompletionId, streamFrames, usageObject, wantsUsageChunk, type CompletionHeader, type FinishReason } from './openai-wire.ts';
import { countChatInputTokens, countTextTokens, splitTextByTokens, type ChatInput } from './tokens.ts';

interface DemoChatRequest extends ChatInput {
  model: string;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
}

export const demoChat: DemoEndpoint = {
  path: '/chat/completions',
  models: DEMO_CHAT_MODELS,
  check(fields) {
    const messages = fields.messages;
    if (!Array.isArray(messages) || messages.length === 0) return { invalid: "'messages' must be a non-empty array.", param: 'messages' };
    for (const [index, message] of messages.entries()) {
      const valid =
        typeof message === 'object' &&
        message !== null &&
        typeof message.role === 'string' &&
        (message.content == null ||
          typeof message.content === 'string' ||
          (Array.isArray(message.content) && message.content.every((part: unknown) => typeof part === 'object' && part !== null)));
      if (!valid) return { invalid: `Invalid message at messages[${index}].`, param: `messages[${index}]` };
    }
    for (const name of ['max_tokens', 'max_completion_tokens'] as const) {
      if (fields[name] != null && !isPositiveWhole(fields[name])) return { invalid: `Invalid '${name}': expected an integer ≥ 1.`, param: name };
    }
    if (fields.n != null && !isPositiveWhole(fields.n, MOST_CHOICES)) return { invalid: `Invalid 'n': expected an integer from 1 to ${MOST_CHOICES}.`, param: 'n' };
    return streamOptionsRefusal(fields);
  },
  async answer(fields, { clock, tokensPerChunk, images, signal }) {
    const body = fields as unknown as DemoChatRequest;
    const { text, cut } = limitedText(demoReplyText(body.model, body.messages), body.max_completion_tokens ?? body.max_tokens ?? null);
    const finishReason: FinishReason = cut ? 'length' : 'stop';
    const choiceCount = body.n ?? 1;
    // Images as OpenAI counts them, by the formula the hold uses (image-tokens.ts).
    const imageTokens = await promptImageTokens(body.model, chatImages(body.messages), images, signal);
    const usage = usageObject({ promptTokens: (await countChatInputTokens(body)) + imageTokens, completionTokens: countTextTokens(text) * choiceCount });
    const header: CompletionHeader = { id: newCompletionId('demo'), createdSeconds: Math.floor(clock.now() / 1000), model: body.model };
    if (body.stream !== true) return { json: chatCompletion(header, Array.from({ length: choiceCount }, () => ({ text, finishReason })), usage) };
    const pieces = splitTextByTokens(text, tokensPerChunk);
    return {
      frames: streamFrames(header, {
        choices: Array.from({ length: choiceCount }, () => ({ pieces, finishReason })),
        usage: wantsUsageChunk(body) ? usage : null,
      }),
    };
  },
};
