// The Hono environment every route shares: who is signed in (or which key called), and the app's context.
import type { IncomingMessage } from 'node:http';
import type { Session, User } from '../db/schema.ts';
import type { KeyCaller } from '../keys/keys.ts';

export interface AppVariables {
  user: User | null;
  session: Session | null;
  /** The Bearer key a /v1 call or a CSV export came with. */
  apiKey: KeyCaller['apiKey'] | null;
}

export interface AppEnv {
  Variables: AppVariables;
  Bindings: { incoming?: IncomingMessage };
}
