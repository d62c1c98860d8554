// The client's IP for throttling: the socket's address, or with TRUST_PROXY=N the address N hops
// back in X-Forwarded-For (entries further left can be written by anyone, so they are ignored).
import type { Context } from 'hono';
import type { AppEnv } from './env.ts';

export function clientIp(c: Context<AppEnv>, trustedHops: number): string {
  const socketAddress = c.env?.incoming?.socket?.remoteAddress ?? 'unknown';
  if (trustedHops === 0) return socketAddress;
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const chain = [...forwarded, socketAddress];
  return chain[Math.max(0, chain.length - 1 - trustedHops)]!;
}
