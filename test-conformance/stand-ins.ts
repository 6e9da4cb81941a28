/**
 * Loopback stand-ins for the services three blackbox vectors need.
 */
import type { SelfDescribingData } from '../iglu-resolver/types.js';
import type { EnrichmentDeps } from '../enricher/enrichments/enrichment.js';
import { unsupported, type Outcome } from './harness.js';

/**
 * Loopback stand-ins for the services three blackbox vectors need (upstream runs them only in its CI):
 * an HTTP API answering the api_request vector's lookup, an Open Exchange Rates lookalike with fixed
 * 2019 rates (chosen so the vectors' rounded results follow; they are fixtures, not market data), and a
 * throwaway PostgreSQL with the sql_query vector's one-row table. They check furrow's wiring and rounding,
 * not live data; a vector whose stand-in cannot start (no PostgreSQL binaries) stays unsupported.
 */
export interface StandIns {
  httpBase: string;
  pg: { host: string; port: number; user: string; password: string; database: string } | null;
  close(): Promise<void>;
}

export async function startStandIns(): Promise<StandIns> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/guest/users/large/') && url.endsWith('/unsure?format=json')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"serviceName":"sp-api-request-enrichment"}');
    } else if (/^\/oer\/historical\/2019-0[67]-\d\d\.json\?app_id=/.test(url)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"base":"USD","rates":{"EUR":0.885936,"GBP":0.790857,"USD":1}}');
    } else res.writeHead(404).end('{"error":"not found"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  let pg: StandIns['pg'] = null;
  let stopPg: (() => Promise<void>) | null = null;
  try {
    const { findPostgresBin, startPostgres } = await import('../test/support/postgres.js');
    if (findPostgresBin() !== null) {
      const db = await startPostgres();
      stopPg = () => db.stop();
      const u = new URL(db.url);
      const { default: pgLib } = await import('pg');
      const client = new pgLib.Client({ connectionString: db.url });
      await client.connect();
      await client.query('CREATE TABLE enrichment_test (service_name text, current_status text, last_status text, pk integer)');
      await client.query("INSERT INTO enrichment_test VALUES ('sp-sql-request-enrichment', 'OK', 'OK', 1)");
      await client.end();
      pg = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) };
    }
  } catch (e) {
    console.log(`note   PostgreSQL stand-in not available: ${(e as Error).message.split('\n')[0]}`);
  }
  return {
    httpBase: `http://127.0.0.1:${port}`,
    pg,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await stopPg?.();
    },
  };
}

/** Points a vector's enrichments and deps at the stand-ins; null when the vector cannot run here. */
export function withStandIns(v: any, deps: EnrichmentDeps, standIns: StandIns): { configs: SelfDescribingData[]; deps: EnrichmentDeps } | Outcome {
  const configs = JSON.parse(JSON.stringify(v.enrichments).replaceAll('http://localhost:8000', standIns.httpBase)) as SelfDescribingData[];
  const req = String(v.requires);
  if (/YAUAA/.test(req)) return unsupported('needs a YAUAA-equivalent user-agent analyzer');
  if (/PostgreSQL/.test(req)) {
    if (standIns.pg === null) return unsupported('needs PostgreSQL (no server binaries here)');
    return { configs, deps: { ...deps, postgresOverride: standIns.pg } };
  }
  if (/Open Exchange/.test(req)) {
    for (const c of configs) ((c.data as any).parameters.apiKey = 'stand-in-key');
    return { configs, deps: { ...deps, fetch: globalThis.fetch, openExchangeRatesBaseUrl: `${standIns.httpBase}/oer` } };
  }
  if (/HTTP API/.test(req)) return { configs, deps: { ...deps, fetch: globalThis.fetch } };
  return unsupported(`needs ${req}`);
}
