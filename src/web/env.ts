// The Hono environment every route shares: who is signed in (or which key called), and the app's context.
import type { IncomingMessage } from 'node:http';
import type { ApiKey, Session, User } from '../db/schema.ts';

export interface AppVariables {
  user: User | null;
  session: Session | null;
  apiKey: ApiKey | null;
}

export interface AppEnv {
  Variables: AppVariables;
  Bindings: { incoming?: IncomingMessage };
}
