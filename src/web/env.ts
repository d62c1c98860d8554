// The Hono environment every route shares: who is signed in (or which key called), and the Node request.
import type { IncomingMessage } from 'node:http';
import type { Session, User } from '../db/schema.ts';

export interface AppVariables {
  user: User | null;
  session: Session | null;
  /** The Bearer key a /v1 call or a CSV export came with (src/keys/keys.ts's CallingKey). */
  apiKey: { id: number; allowedModels: readonly string[] | null; expiresAtMs: number | null } | null;
  /** The error code an answer carries (errorJson, the pages' onError): the metrics' 402/429 reason. */
  errorCode?: string | null;
}

export interface AppEnv {
  Variables: AppVariables;
  Bindings: { incoming?: IncomingMessage };
}
