// The password hasher the app is given: the constant productionCost, or a lower cost that only tests pass.
// Its dummy hash makes a sign-in for an unknown email cost as much as a wrong password. Every call
// names its requester (the client address) and throws HashSlotsFullError when the hasher is full
// (src/auth/hash-slots.ts).
import { hashPassword, productionCost, unmatchablePhc, verifyPassword, type ScryptCost } from './password.ts';

export interface Hasher {
  hash(password: string, requester: string): Promise<string>;
  verify(password: string, phc: string, requester: string): Promise<boolean>;
  /** Verifies against a throwaway hash of the same cost and returns false. */
  burn(password: string, requester: string): Promise<false>;
}

export function createHasher(cost: ScryptCost = productionCost): Hasher {
  const dummy = unmatchablePhc(cost);
  return {
    hash: (password, requester) => hashPassword(password, cost, requester),
    verify: (password, phc, requester) => verifyPassword(password, phc, requester),
    async burn(password, requester) {
      await verifyPassword(password, dummy, requester);
      return false;
    },
  };
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 512;

/** The rule for a new password; null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password.length > MAX_PASSWORD_LENGTH) return `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
  return null;
}
