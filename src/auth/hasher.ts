// The password hasher the app is given: the constant productionCost, or a lower cost that only tests pass.
// Its dummy hash makes a sign-in for an unknown email cost as much as a wrong password.
import { hashPassword, productionCost, verifyPassword, type ScryptCost } from './password.ts';

export interface Hasher {
  hash(password: string): Promise<string>;
  verify(password: string, phc: string): Promise<boolean>;
  /** Verifies against a throwaway hash of the same cost and returns false. */
  burn(password: string): Promise<false>;
}

export function createHasher(cost: ScryptCost = productionCost): Hasher {
  let dummy: Promise<string> | null = null;
  return {
    hash: (password) => hashPassword(password, cost),
    verify: verifyPassword,
    async burn(password) {
      dummy ??= hashPassword('not a real password', cost);
      await verifyPassword(password, await dummy);
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
