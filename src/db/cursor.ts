// Opaque pagination cursors: a position in a keyset (created_at_ms, id) and a direction, signed
// with a secret kept in the database, so a tampered cursor is refused instead of misread.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DB } from './connect.ts';

export interface Cursor {
  /** older: rows before this position; newer: rows after it. */
  direction: 'older' | 'newer';
  createdAtMs: number;
  id: number;
}

const secretByDb = new WeakMap<DB, Buffer>();

/** The signing secret: made once per database, so cursors in saved links survive restarts. */
export async function cursorSecret(db: DB): Promise<Buffer> {
  const cached = secretByDb.get(db);
  if (cached) return cached;
  await db
    .insertInto('app_settings')
    .values({ name: 'cursor_secret', value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('app_settings').select('value').where('name', '=', 'cursor_secret').executeTakeFirstOrThrow();
  const secret = Buffer.from(row.value, 'base64url');
  secretByDb.set(db, secret);
  return secret;
}

const sign = (secret: Buffer, payload: string) => createHmac('sha256', secret).update(payload).digest().subarray(0, 12);

export function encodeCursor(secret: Buffer, cursor: Cursor): string {
  const payload = Buffer.from(`${cursor.direction === 'older' ? 'o' : 'n'}.${cursor.createdAtMs}.${cursor.id}`).toString('base64url');
  return `${payload}.${sign(secret, payload).toString('base64url')}`;
}

/** null when the text is not a cursor this database signed. */
export function decodeCursor(secret: Buffer, text: string): Cursor | null {
  const [payload, signature, ...rest] = text.split('.');
  if (!payload || !signature || rest.length > 0) return null;
  const expected = sign(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const match = /^([on])\.(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(payload, 'base64url').toString());
  if (!match) return null;
  return { direction: match[1] === 'o' ? 'older' : 'newer', createdAtMs: Number(match[2]), id: Number(match[3]) };
}
