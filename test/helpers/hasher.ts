// A Hasher around a real one that records every password check and hash that finished, and whose
// requester it was for, in the order they finished: how tests count what was really evaluated.
import { createHasher, type Hasher } from '../../src/auth/hasher.ts';
import type { ScryptCost } from '../../src/auth/password.ts';
import { cheapCost } from './db.ts';

export interface CountingHasher extends Hasher {
  /** The verify and burn calls that finished (a password was checked), in order. */
  checked: { requester: string; matched: boolean }[];
  /** Requesters of the hash calls that finished, in order. */
  hashed: string[];
  /** Calls made, finished or not (refused ones included). */
  calls: number;
}

export function countingHasher(cost: ScryptCost = cheapCost): CountingHasher {
  const inner = createHasher(cost);
  const counting: CountingHasher = {
    checked: [],
    hashed: [],
    calls: 0,
    async hash(password, requester) {
      counting.calls++;
      const phc = await inner.hash(password, requester);
      counting.hashed.push(requester);
      return phc;
    },
    async verify(password, phc, requester) {
      counting.calls++;
      const matched = await inner.verify(password, phc, requester);
      counting.checked.push({ requester, matched });
      return matched;
    },
    async burn(password, requester) {
      counting.calls++;
      const matched = await inner.burn(password, requester);
      counting.checked.push({ requester, matched });
      return matched;
    },
  };
  return counting;
}
