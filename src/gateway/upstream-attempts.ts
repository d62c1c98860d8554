// What a call's upstream attempts came to, for its usage row: the upstream that answered (or failed
// last) and, in order, how each attempt ended ("primary: 500; secondary: ok").
import type { UpstreamFailure } from './errors.ts';

/** Bounded: at most 8 upstreams a model (upstreams-file.ts), names of at most 40 characters. */
const MAX_TEXT_CHARS = 512;

/** How an attempt ended, in a word: the upstream's HTTP status when it gave one, else what happened. */
export function attemptResult(failure: UpstreamFailure | 'stopped'): string {
  if (failure === 'stopped') return 'stopped';
  return failure.upstreamStatus !== null ? String(failure.upstreamStatus) : failure.kind;
}

export class UpstreamAttempts {
  private readonly attempts: { name: string; result: string }[] = [];

  /** An attempt on this upstream begins; it counts as answering ("ok") until it is said to have failed. */
  begin(name: string): void {
    this.attempts.push({ name, result: 'ok' });
  }

  /** The current attempt ended without an answer (or its answer broke off, or the call was stopped). */
  failed(failure: UpstreamFailure | 'stopped'): void {
    const current = this.attempts.at(-1);
    if (current) current.result = attemptResult(failure);
  }

  /** The upstream that answered, or the last one tried; null when none was. */
  get upstream(): string | null {
    return this.attempts.at(-1)?.name ?? null;
  }

  /** "primary: 500; secondary: ok"; null when no upstream was tried. */
  text(): string | null {
    if (this.attempts.length === 0) return null;
    const text = this.attempts.map(({ name, result }) => `${name}: ${result}`).join('; ');
    return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS - 1)}…` : text;
  }
}
