// The name a process goes by in the lease rows it holds: enough for an operator to tell which
// machine and process holds a job (select * from job_leases), and unique across restarts.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export function processHolder(): string {
  return `${hostname().slice(0, 100)}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
