// bench:footprint's processes: starts a command as a child, times it from spawn to its first good
// answer, reads its resident memory (the kernel's figure, as `ps` shows it), and asks it for a GC.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../test/helpers/postgres.ts';

export interface Measured {
  child: ChildProcess;
  url: string;
  startMs: number;
  /** CPU time (user + system) the process had used when it first answered: on a busy machine, nearer what a quiet one takes than the wall time. */
  startCpuMs: number | null;
  output(): string;
  stop(): Promise<number | null>;
}

/** Spawns `command args` with PORT set and times it until `path` answers 200 (polled every 5 ms, up to 60 s). */
export async function startTimed(command: string, args: string[], env: Record<string, string>, path = '/healthz'): Promise<Measured> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedMs = performance.now();
  const child = spawn(command, args, { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadlineMs = spawnedMs + 60_000;
  while (performance.now() < deadlineMs && child.exitCode === null) {
    try {
      if ((await fetch(`${url}${path}`)).ok) {
        const startMs = performance.now() - spawnedMs;
        return {
          child,
          url,
          startMs,
          startCpuMs: cpuMs(child.pid!),
          output: () => output,
          async stop() {
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        };
      }
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  child.kill('SIGKILL');
  throw new Error(`${command} ${args.join(' ')} did not answer ${path}: ${output.slice(-800)}`);
}

/** CPU time a process has used (user + system), from /proc (Linux; null elsewhere), in ms. */
export function cpuMs(pid: number): number | null {
  try {
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in clock ticks (100 a second).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** Resident set size of a process in MB (10^6 bytes): /proc on Linux, `ps` elsewhere. */
export function rssMb(pid: number): number {
  try {
    const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (line) return (Number(line[1]) * 1024) / 1e6;
  } catch {}
  return (Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024) / 1e6;
}

/** Sends SIGUSR2 to a process started with footprint-gc.mjs and waits for its figures after a full GC. */
export async function rssAfterGcMb(measured: Measured): Promise<{ rssMb: number; heapUsedMb: number; heapTotalMb: number; externalMb: number }> {
  const before = measured.output().length;
  measured.child.kill('SIGUSR2');
  for (let i = 0; i < 400; i++) {
    const line = /footprint-gc (\{.*\})/.exec(measured.output().slice(before));
    if (line) {
      const usage = JSON.parse(line[1]!) as NodeJS.MemoryUsage;
      return { rssMb: usage.rss / 1e6, heapUsedMb: usage.heapUsed / 1e6, heapTotalMb: usage.heapTotal / 1e6, externalMb: usage.external / 1e6 };
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the server did not answer SIGUSR2 with its memory figures');
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
