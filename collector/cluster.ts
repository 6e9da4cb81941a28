/**
 * `furrow collector --workers N`: N processes serve one port (node:cluster; the primary only supervises).
 *
 *   primary ──fork×N──▶ workers (each: config, sinks, server on the shared port)
 *      ▲  messages: {listening, port} · {out, fd, data} (stdout sink lines, written by the primary so lines
 *      │            from different workers never interleave) · {metrics-req} (answered with the aggregate)
 *   SIGTERM/SIGINT ──▶ primary forwards SIGTERM ──▶ each worker: graceful shutdown, flush ──▶ exit 0
 *   a worker that dies unexpectedly is replaced.
 */
import cluster, { type Worker } from 'node:cluster';
import { Writable } from 'node:stream';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../common/logger.js';

type Msg =
  | { t: 'furrow:listening'; port: number }
  | { t: 'furrow:out'; fd: 1 | 2; data: string }
  | { t: 'furrow:metrics-req'; id: number }
  | { t: 'furrow:metrics-res'; id: number; text: string | null };

function isMsg(m: unknown): m is Msg {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && (m as { t: string }).t.startsWith('furrow:');
}

/** Runs the primary: forks, supervises, forwards signals. Resolves with the exit code when all workers ended. */
export function runPrimary(workers: number, log: Logger): Promise<number> {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let listening = 0;
  let failed = false;
  const alive = new Set<Worker>();

  return new Promise<number>((resolve) => {
    const fork = (): void => {
      const w = cluster.fork();
      alive.add(w);
      let served = false;
      w.on('message', (m: unknown) => {
        if (!isMsg(m)) return;
        if (m.t === 'furrow:listening') {
          served = true;
          listening++;
          if (listening === workers) log.info({ port: m.port, workers }, 'collector listening');
        } else if (m.t === 'furrow:out') {
          (m.fd === 1 ? process.stdout : process.stderr).write(m.data);
        } else if (m.t === 'furrow:metrics-req') {
          aggregator.clusterMetrics().then(
            (text) => w.send({ t: 'furrow:metrics-res', id: m.id, text } satisfies Msg),
            () => w.send({ t: 'furrow:metrics-res', id: m.id, text: null } satisfies Msg),
          );
        }
      });
      w.on('exit', (code, signal) => {
        alive.delete(w);
        if (code !== 0) failed = true;
        if (!stopping && !served) {
          // Died before listening (port taken, bad credentials...): restarting would only loop.
          log.error({ pid: w.process.pid, code, signal }, 'collector worker failed to start; stopping');
          failed = true;
          stop('SIGTERM');
        } else if (!stopping) {
          log.error({ pid: w.process.pid, code, signal }, 'collector worker died; starting another in 1 s');
          setTimeout(() => (stopping ? undefined : fork()), 1000);
          return;
        }
        if (alive.size === 0) resolve(failed ? 1 : 0);
      });
    };
    const stop = (sig: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig, workers: alive.size }, 'stopping collector workers');
      for (const w of alive) w.process.kill('SIGTERM');
      if (alive.size === 0) resolve(failed ? 1 : 0);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    for (let i = 0; i < workers; i++) fork();
  });
}

/** In a worker: tell the primary the port once listening. */
export function announceListening(port: number): void {
  process.send?.({ t: 'furrow:listening', port } satisfies Msg);
}

/** In a worker: a stream whose writes the primary prints on its stdout (fd 1) or stderr (fd 2). */
export function primaryStream(fd: 1 | 2): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      process.send!({ t: 'furrow:out', fd, data: chunk.toString('utf8') } satisfies Msg, undefined, undefined, (err) => cb(err ?? null));
    },
  });
}

/** In a worker: metrics of all workers, aggregated by the primary. */
export function clusterMetricsText(): () => Promise<string> {
  let next = 0;
  const waiting = new Map<number, (text: string | null) => void>();
  process.on('message', (m: unknown) => {
    if (isMsg(m) && m.t === 'furrow:metrics-res') {
      waiting.get(m.id)?.(m.text);
      waiting.delete(m.id);
    }
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('metrics timeout'));
      }, 5000);
      waiting.set(id, (text) => {
        clearTimeout(timer);
        if (text === null) reject(new Error('metrics aggregation failed'));
        else resolve(text);
      });
      process.send!({ t: 'furrow:metrics-req', id } satisfies Msg);
    });
}

/** In a worker: expose this registry to the primary's aggregator. */
export function registerWorkerRegistry(registry: import('prom-client').Registry): void {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}
