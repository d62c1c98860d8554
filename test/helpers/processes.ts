// Spawns test workers as real OS processes and talks to them line by line; kills any left over.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Worker {
  child: ChildProcess;
  /** Resolves with the first stdout line that starts with `prefix` (the rest of the line). */
  waitFor(prefix: string, timeoutMs?: number): Promise<string>;
  lines: string[];
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();

export function startWorker(script: string, args: string[], env: Record<string, string> = {}): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(child);
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (rest: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (line.startsWith(w.prefix)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line.slice(w.prefix.length).trim());
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { live.delete(child); resolve(code); }));
  return {
    child,
    lines,
    exited,
    waitFor(prefix, timeoutMs = 60_000) {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen) return Promise.resolve(seen.slice(prefix.length).trim());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker did not print "${prefix}" within ${timeoutMs} ms; stderr: ${stderr.slice(-500)}`)), timeoutMs);
        waiters.push({ prefix, resolve: (rest) => { clearTimeout(timer); resolve(rest); } });
        exited.then((code) => { clearTimeout(timer); reject(new Error(`worker exited ${code} before "${prefix}"; stderr: ${stderr.slice(-800)}`)); });
      });
    },
  };
}

export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** `count` workers of `script`, started with `argsOf(index)`, each past "ready", then all told "go" at once. */
export async function startTogether(script: string, count: number, argsOf: (index: number) => string[]): Promise<Worker[]> {
  const workers = Array.from({ length: count }, (_, index) => startWorker(script, argsOf(index)));
  await Promise.all(workers.map((w) => w.waitFor('ready')));
  for (const w of workers) w.child.stdin!.write('go\n');
  return workers;
}

/** What each worker printed as its `result {json}` line, parsed. */
export async function resultsOf<R>(workers: Worker[], timeoutMs = 180_000): Promise<R[]> {
  return (await Promise.all(workers.map((w) => w.waitFor('result ', timeoutMs)))).map((json) => JSON.parse(json) as R);
}
