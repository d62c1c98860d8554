// The Hono environment every route shares: who is signed in (or which key called), and the Node request.
import type { IncomingMessage } from 'node:http';
import type { ApiKey, Session, User } from '../db/schema.ts';

export interface AppVariables {
  user: User | null;
  session: Session | null;
  /** The Bearer key a /v1 call or a CSV export came with. */
  apiKey: Pick<ApiKey, 'id'> | null;
}

export interface AppEnv {
  Variables: AppVariables;
  Bindings: { incoming?: IncomingMessage };
}
