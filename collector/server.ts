/**
 * Serving a Collector on node:http, and stopping it without losing records.
 *
 *   start ──listen(interface, port)──▶ serving
 *     connections: at most networking.maxConnections (node resets the rest); idle keep-alive ones closed
 *     after networking.idleTimeout, or earlier when the limit is near (connection-guard.ts); request head
 *     within collector.furrow.headersTimeout, whole request within networking.responseHeaderTimeout (408)
 *   SIGTERM ──▶ keep serving preTerminationPeriod ──▶ stop accepting, close idle keep-alive sockets
 *           ──▶ wait for in-flight requests (≤ responseHeaderTimeout, then cut) ──▶ flush sinks ──▶ done
 */
import { sleep } from '../common/timing.js';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { silentLogger } from '../common/logger.js';
import type { Collector } from './collector.js';
import { ConnectionGuard } from './connection-guard.js';

export interface RunningCollector {
  readonly server: Server;
  readonly port: number;
  /** Graceful stop (idempotent). `preTerminationMs` overrides the config's preTerminationPeriod. */
  shutdown(preTerminationMs?: number): Promise<void>;
}

export interface ServeOptions {
  host?: string;
  port?: number;
  logger?: Logger;
}

/**
 * The collector's node:http server, not yet listening: its limits (head size, timeouts, maxConnections), the
 * connection guard and blaze's answer to malformed requests. `listener` defaults to the collector's own;
 * furrow mini passes one that routes its API first and hands everything else to the collector.
 */
export function createCollectorHttpServer(collector: Collector, listener: RequestListener = collector.listener): Server {
  const net = collector.config.networking;
  const guard = new ConnectionGuard({ maxConnections: net.maxConnections, onEvict: (reason) => collector.metrics.connectionEvicted(reason) });
  const headersTimeout = Math.min(collector.config.furrow.headersTimeoutMs, net.responseHeaderTimeoutMs);
  const server = createServer(
    {
      // Node counts the request line and the headers together.
      maxHeaderSize: net.maxRequestLineLength + net.maxHeadersLength,
      requestTimeout: net.responseHeaderTimeoutMs,
      headersTimeout,
      keepAliveTimeout: net.idleTimeoutMs,
      // Node enforces both timeouts by a sweep at this interval (a deadline is late by up to one interval).
      connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(headersTimeout / 2))),
    },
    guard.wrap(listener),
  );
  server.maxConnections = net.maxConnections;
  guard.attach(server);
  collector.metrics.openConnections = () => guard.openConnections;
  // Malformed requests (bad request line, headers too large, ...) get blaze's answer: 400, Connection: close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !(err as { code?: string }).code?.startsWith('ECONN')) {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else socket.destroy();
    collector.metrics.request(err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timeout' : 'bad_request', err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400);
  });
  return server;
}

export async function startCollectorServer(collector: Collector, o: ServeOptions = {}): Promise<RunningCollector> {
  const c = collector.config;
  const log = o.logger ?? silentLogger;
  const net = c.networking;
  const server = createCollectorHttpServer(collector);
  const host = o.host ?? c.interface;
  const wanted = o.port ?? c.port;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(new FurrowError('COLLECTOR_LISTEN', `cannot listen on ${host}:${wanted}: ${e.message}`, { cause: e }));
    server.once('error', onError);
    server.listen(wanted, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | null = null;

  const shutdown = (preTerminationMs = c.preTerminationPeriodMs): Promise<void> => {
    stopping ??= (async () => {
      if (preTerminationMs > 0) {
        log.info({ ms: preTerminationMs }, 'shutdown: still serving during the pre-termination period');
        await sleep(preTerminationMs);
      }
      log.info('shutdown: no longer accepting connections');
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      // Busy keep-alive connections close after their current response; cut whatever is left at the deadline.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, net.responseHeaderTimeoutMs)))]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
      log.info({ goodPendingBytes: collector.good.pendingBytes(), badPendingBytes: collector.bad.pendingBytes() }, 'shutdown: flushing sinks');
      await collector.close();
      log.info('shutdown: done');
    })();
    return stopping;
  };
  return { server, port, shutdown };
}
