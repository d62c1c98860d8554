// The app in-process for page and API tests: a fresh database, a manual clock, captured log lines,
// and a small browser (cookie jar, Origin header, htmx mode) that parses answers with happy-dom.
import { Window } from 'happy-dom';
import { loadConfig, type Config } from '../../src/config.ts';
import { createApp } from '../../src/app.tsx';
import { createContext, type AppContext } from '../../src/context.ts';
import { createHasher, type Hasher } from '../../src/auth/hasher.ts';
import { freshDb, cheapCost, type TestDb } from './db.ts';

export interface TestApp extends TestDb {
  app: ReturnType<typeof createApp>;
  /** The context the app was built from (its gateway, its billing deps, …). */
  ctx: AppContext;
  config: Config;
  logLines: string[];
  browser(ip?: string): Browser;
  /** A request with no cookies (API calls, other clients). */
  fetch(path: string, init?: RequestInit, ip?: string): Promise<Response>;
}

/** `options.hasher`: a test's own (counting, or of real-ish cost); by default scrypt at cheapCost. */
export async function testApp(env: Record<string, string> = {}, options: { hasher?: Hasher } = {}): Promise<TestApp> {
  const t = await freshDb();
  const config = loadConfig({ PORT: '3000', ...env });
  const logLines: string[] = [];
  const hasher = options.hasher ?? createHasher(cheapCost);
  const ctx = createContext(config, { db: t.db, clock: t.clock, hasher, log: (line) => logLines.push(line) });
  const app = createApp(ctx);
  const fetchFrom = (path: string, init: RequestInit = {}, ip = '203.0.113.7') =>
    Promise.resolve(app.request(path, init, { incoming: { socket: { remoteAddress: ip } } } as never));
  return {
    ...t,
    app,
    ctx,
    config,
    logLines,
    fetch: fetchFrom,
    browser: (ip = '203.0.113.7') => new Browser(fetchFrom, config, ip),
  };
}

export function parse(html: string): Document {
  const window = new Window({ url: 'http://localhost:3000/' });
  window.document.write(html);
  return window.document as unknown as Document;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  doc: Document;
}

type Fetcher = (path: string, init?: RequestInit, ip?: string) => Promise<Response>;

export class Browser {
  readonly cookies = new Map<string, string>();
  lastSetCookie: string[] = [];
  origin: string;

  constructor(
    private readonly fetcher: Fetcher,
    config: Config,
    public ip: string,
  ) {
    this.origin = config.publicUrlExplicit ? new URL(config.publicUrl).origin : `http://localhost:${config.port}`;
  }

  private remember(response: Response) {
    this.lastSetCookie = response.headers.getSetCookie();
    for (const line of this.lastSetCookie) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...rest] = pair!.split('=');
      const value = rest.join('=');
      const expired = attributes.some((a) => /max-age=0/i.test(a.trim())) || value === '';
      if (expired) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value);
    }
  }

  private cookieHeader(): Record<string, string> {
    return this.cookies.size === 0 ? {} : { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  /** `form` posts URL-encoded, as a plain form does; `multipart` as a form with enctype="multipart/form-data". */
  async request(
    method: string,
    path: string,
    options: { form?: Record<string, string>; multipart?: Record<string, string>; htmx?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...this.cookieHeader(), ...(options.headers ?? {}) };
    if (options.htmx) headers['HX-Request'] = 'true';
    let body: string | FormData | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin ??= this.origin;
      body = new URLSearchParams(options.form).toString();
    } else if (options.multipart) {
      headers.origin ??= this.origin;
      body = new FormData();
      for (const [name, value] of Object.entries(options.multipart)) body.append(name, value);
    }
    const response = await this.fetcher(path, { method, headers, body, redirect: 'manual' }, this.ip);
    this.remember(response);
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, doc: parse(text) };
  }

  get(path: string, options: { htmx?: boolean; headers?: Record<string, string> } = {}) {
    return this.request('GET', path, options);
  }

  /** A plain form's redirect (303) followed, as a browser does: the page it leads to. */
  follow(answer: Answer): Promise<Answer> {
    const location = answer.headers.get('location');
    if (answer.status !== 303 || !location) throw new Error(`expected a 303 with a Location, got ${answer.status}`);
    return this.get(location);
  }

  post(path: string, form: Record<string, string>, options: { htmx?: boolean; headers?: Record<string, string> } = {}) {
    return this.request('POST', path, { ...options, form });
  }

  postMultipart(path: string, fields: Record<string, string>, options: { htmx?: boolean; headers?: Record<string, string> } = {}) {
    return this.request('POST', path, { ...options, multipart: fields });
  }

  async signUp(email: string, password = 'correct horse battery'): Promise<Answer> {
    return this.post('/signup', { email, password });
  }
}
