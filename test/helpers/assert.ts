// What uvu/assert lacks: awaiting a promise that must reject.
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
