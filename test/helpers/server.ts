// The real server as a separate process (`src/server.ts`), on a free port, for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';

/** Demo payments and the demo model for sure: no keys from the environment that runs the tests. */
export const DEMO_ENV = { PAYMENTS: 'demo', SQLITE_SYNCHRONOUS: 'normal', STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '', STRIPE_API_BASE: '', OPENAI_API_KEY: '', PUBLIC_URL: '', SMTP_URL: '' };

export interface RunningServer {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * A port below Linux's ephemeral range (32768–60999), so an outgoing connection of the busy test run
 * cannot hold it; two servers of parallel passes may still pick the same one, so startServer retries.
 */
function guessPort(): number {
  return 20_000 + Math.floor(Math.random() * 12_000);
}

/** The server as TypeScript through tsx, as the tests run it; `npm start` runs the built `dist/server.js` instead. */
export const TYPESCRIPT_ENTRY = ['--import', 'tsx', 'src/server.ts'];

export async function startServer(env: Record<string, string>, nodeArgs: string[] = TYPESCRIPT_ENTRY): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(env, guessPort(), nodeArgs);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 5) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startServerOnce(env: Record<string, string>, port: number, nodeArgs: string[]): Promise<RunningServer> {
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  // Up to 90 s: several servers starting at once on a busy 2-core machine each compile the app first
  // (three took 37–65 s at a load average of 30).
  // Only after this child says it listens: before that, /healthz on its port may be another pass's server.
  for (let i = 0; i < 900; i++) {
    try {
      if (output.includes(`listening on http://127.0.0.1:${port} `) && (await fetch(`${url}/healthz`)).ok) {
        return {
          url,
          port,
          child,
          output: () => output,
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        };
      }
    } catch {}
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  if (output.includes('EADDRINUSE')) throw new PortTaken(`port ${port} is taken`);
  throw new Error(`the server did not answer /healthz: ${output.slice(-500)}`);
}
