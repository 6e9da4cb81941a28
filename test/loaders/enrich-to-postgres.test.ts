/**
 * End to end through furrow's own enricher: tracker requests as CollectorPayload records →
 * `furrow enrich --output stdout` → `furrow load postgres` (stdin) → the values the tracker sent are in
 * atomic.events, the web_page context in its table joined by root_id.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { COLLECTOR_PAYLOAD_SCHEMA, encodeCollectorPayload } from '../../formats/collector-payload.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { startPostgres } from '../support/postgres.js';
import { IGLU_CENTRAL } from './fixtures/dir-resolver.js';

function run(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdin.end(stdin);
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('tracker events → furrow enrich → furrow load postgres', async (t) => {
  const N = 20;
  const pageViewIds: string[] = [];
  const records: string[] = [];
  for (let i = 0; i < N; i++) {
    const pvId = `0f6b3a4e-6a3b-4f43-9b5c-${String(100000000000 + i)}`;
    pageViewIds.push(pvId);
    const cx = Buffer.from(JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
      data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: pvId } }],
    })).toString('base64url');
    const q = new URLSearchParams({
      e: 'pv', aid: 'e2e-shop', p: 'web', tv: 'js-3.24.0', url: `https://shop.example/p/${i}?q=ü`, page: `Produkt ${i} — Grüße`,
      eid: `4f0c7a5e-1b2c-4d3e-8f90-${String(100000000000 + i)}`, dtm: String(1700000000000 + i), cx,
    });
    records.push(encodeCollectorPayload({
      schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '192.0.2.10', timestamp: 1700000000000 + i * 1000, encoding: 'UTF-8',
      collector: 'ssc-3.4.0-stdout', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', path: '/i', querystring: q.toString(),
      headers: ['Host: collector.test'],
    }).toString('base64'));
  }
  const enriched = await run(['enrich', '--input', 'stdin', '--output', 'stdout', '--offline', '--log-level', 'warn'], records.join('\n') + '\n');
  t.equal(enriched.code, 0, enriched.stderr.slice(-2000));
  const lines = enriched.stdout.split('\n').filter((l) => l !== '');
  t.equal(lines.length, N, `enricher produced ${N} events`);
  if (lines.length !== N) return;

  const server = await startPostgres();
  t.teardown(() => server.stop());
  const dir = mkdtempSync(join(tmpdir(), 'furrow-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const resolverJson = join(dir, 'resolver.json');
  writeFileSync(resolverJson, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
    data: { cacheSize: 50, repositories: [{ name: 'local', priority: 0, vendorPrefixes: ['com.snowplowanalytics'], connection: { embedded: { path: join(IGLU_CENTRAL, '..') } } }] },
  }));
  const loaded = await run(['load', 'postgres', '--url', server.url, '--iglu-config', resolverJson, '--log-level', 'warn'], enriched.stdout);
  t.equal(loaded.code, 0, loaded.stderr.slice(-2000));
  t.equal(loaded.stdout, '', 'no bad rows');

  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    const ev = await c.query(`SELECT e.event_id::text AS id, e.app_id, e.page_url, e.page_title, e.event, e.v_collector, w.id::text AS pv
                                FROM atomic.events e JOIN atomic.com_snowplowanalytics_snowplow_web_page_1 w ON w.root_id = e.event_id
                               ORDER BY e.collector_tstamp`);
    t.equal(ev.rowCount, N);
    // Every value equals the enricher's TSV column; the tracker's values made it through.
    const idx = (f: string) => ENRICHED_FIELDS.indexOf(f as (typeof ENRICHED_FIELDS)[number]);
    const byId = new Map(lines.map((l) => l.split('\t')).map((cols) => [cols[idx('event_id')]!, cols]));
    const diffs: string[] = [];
    for (const row of ev.rows) {
      const cols = byId.get(row.id);
      for (const f of ['app_id', 'page_url', 'page_title', 'event', 'v_collector']) if (cols?.[idx(f)] !== row[f]) diffs.push(`${row.id} ${f}: ${cols?.[idx(f)]} vs ${row[f]}`);
    }
    t.same(diffs, []);
    t.same(ev.rows.map((r) => r.pv), pageViewIds, 'web_page contexts joined by root_id, in order');
    t.same(ev.rows[3], { id: ev.rows[3].id, app_id: 'e2e-shop', page_url: ev.rows[3].page_url, page_title: 'Produkt 3 — Grüße', event: 'page_view', v_collector: 'ssc-3.4.0-stdout', pv: pageViewIds[3] });
    t.match(ev.rows[3].page_url, /^https:\/\/shop\.example\/p\/3\?q=/);
  } finally {
    await c.end();
  }
});
