// The Node http.Server's connection timeouts, from the config: handed to serve() in src/server.ts.
import type { ServerOptions } from 'node:http';
import type { Config } from '../config.ts';

/**
 * Headers get this much longer than an idle keep-alive connection is kept: a request that starts just
 * before the keep-alive timeout runs out must not be cut off by the headers timeout instead.
 */
export const HEADERS_TIMEOUT_MARGIN_SECONDS = 5;

/**
 * Node closes an idle keep-alive connection after 5 s by default, while nginx and common load
 * balancers keep theirs for 60 s: a proxy reusing a connection the server has just closed gets a
 * reset (a 502 for its client). Keeping idle connections longer than the proxy does means the proxy
 * always closes first. A drain still closes them at once (closeAllConnections in src/server.ts).
 */
export function httpServerOptions(config: Pick<Config, 'keepAliveTimeoutSeconds'>): ServerOptions {
  return {
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    headersTimeout: (config.keepAliveTimeoutSeconds + HEADERS_TIMEOUT_MARGIN_SECONDS) * 1000,
  };
}
