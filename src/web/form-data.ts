// Reads a posted form as plain strings: a missing or file field reads as "".
import type { Context } from 'hono';

export async function formFields(c: Context): Promise<(name: string) => string> {
  const body = await c.req.parseBody();
  return (name) => {
    const value = body[name];
    return typeof value === 'string' ? value : '';
  };
}
