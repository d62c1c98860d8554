// What uvu/assert lacks: awaiting a promise that must reject, and waiting for a condition.
import * as assert from 'uvu/assert';

/** Fails unless `work` rejects with an error of `expected` (a class) or whose message matches it (a RegExp). */
export async function rejects(work: () => Promise<unknown>, expected: RegExp | (new (...args: any[]) => Error)): Promise<Error> {
  try {
    await work();
  } catch (error) {
    if (expected instanceof RegExp) assert.match((error as Error).message, expected);
    else assert.instance(error, expected);
    return error as Error;
  }
  assert.unreachable(`expected a rejection matching ${expected instanceof RegExp ? expected : expected.name}`);
  throw new Error('unreachable');
}

/** Polls `check` every 5 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
