// The demo model's words: a deterministic reply that quotes the start of the last user message.
import type { ChatInputMessage } from './tokens.ts';

/** How much of the prompt the reply quotes back, in characters. */
const QUOTE_LIMIT_CHARS = 60;

/** A message or input item as the reply reads it: its role and content (chat messages and Responses items both fit). */
export interface SaidMessage {
  role?: string;
  content?: ChatInputMessage['content'];
}

/**
 * The start of a text, enough to quote it: its first QUOTE_LIMIT_CHARS + 1 non-space characters
 * (whole code points) with the whitespace around them, so a 4 MB prompt is not copied to be quoted.
 */
const QUOTABLE_START = new RegExp(`^\\s*(?:\\S\\s*){0,${QUOTE_LIMIT_CHARS + 1}}`, 'u');

/** The reply for a prompt: the same prompt always gets the same words, whichever process answers. */
export function demoReplyText(model: string, messages: readonly SaidMessage[]): string {
  const start = QUOTABLE_START.exec(lastUserText(messages))?.[0] ?? '';
  const said = start.replace(/\s+/g, ' ').trim();
  const characters = Array.from(said); // whole code points, so an emoji is never cut in half
  const quote = characters.length > QUOTE_LIMIT_CHARS ? `${characters.slice(0, QUOTE_LIMIT_CHARS).join('')}…` : said;
  const opening = quote ? `you said “${quote}”.` : 'your message had no text.';
  return (
    `Demo reply from ${model}: ${opening} ` +
    'This answer comes from the built-in demo model, so nothing left this server. ' +
    'Its tokens are counted with the same tokenizer as a real model’s, and credits are charged for them the same way.'
  );
}

function lastUserText(messages: readonly SaidMessage[]): string {
  const message = [...messages].reverse().find((each) => each.role === 'user');
  if (!message || message.content == null) return '';
  if (typeof message.content === 'string') return message.content;
  return message.content.map((part) => part.text ?? '').join(' ');
}
