// The output received from the upstream, kept as text per choice (or per output item), so a call without
// usage from the upstream (aborted, broken, or a server that sends none) is charged for the tokens it did receive.
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { countTextsTokensPaced } from './tokens.ts';

export class ReceivedOutput {
  private readonly pieces = new Map<number, string[]>();

  /** True from the first content, refusal or tool-call delta on (the role chunk alone is not output). */
  get any(): boolean {
    return this.pieces.size > 0;
  }

  /** Text of one choice (a Responses answer: of one output item), in the order it arrived. */
  addText(choice: number, text: string | null | undefined): void {
    if (!text) return;
    const list = this.pieces.get(choice);
    if (list) list.push(text);
    else this.pieces.set(choice, [text]);
  }

  addChunk(chunk: ChatCompletionChunk): void {
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta;
      if (!delta) continue;
      this.addText(choice.index, delta.content);
      this.addText(choice.index, delta.refusal);
      for (const call of delta.tool_calls ?? []) {
        this.addText(choice.index, call.function?.name);
        this.addText(choice.index, call.function?.arguments);
      }
      this.addText(choice.index, delta.function_call?.name);
      this.addText(choice.index, delta.function_call?.arguments);
    }
  }

  addCompletion(completion: ChatCompletion): void {
    for (const choice of completion.choices ?? []) {
      const message = choice.message;
      if (!message) continue;
      this.addText(choice.index, message.content);
      this.addText(choice.index, message.refusal);
      for (const call of message.tool_calls ?? []) {
        if (call.type === 'function') {
          this.addText(choice.index, call.function.name);
          this.addText(choice.index, call.function.arguments);
        }
      }
      this.addText(choice.index, message.function_call?.name);
      this.addText(choice.index, message.function_call?.arguments);
    }
  }

  /**
   * Output tokens, counted on each choice's whole text (a token can span two deltas), in linear
   * time and in turns with the rest of the server however much was received (token-count.ts).
   */
  tokens(): Promise<number> {
    return countTextsTokensPaced([...this.pieces.values()].map((list) => list.join('')));
  }
}
