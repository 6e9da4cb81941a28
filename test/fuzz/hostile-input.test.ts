/**
 * Hostile-input fuzz test: random and mutated tracker requests, Thrift records and TSV lines (test/support/fuzz.ts)
 * through real furrow processes on 127.0.0.1, with a fixed seed and a bounded count.
 *
 *   (a) requests ──raw sockets──▶ furrow collector (stdout sink) ──▶ records + collector bad rows
 *   (b) (a)'s records + generated records ──file──▶ furrow enrich ──▶ good.tsv + bad.jsonl
 *   (c) (b)'s good lines + generated TSV lines ──file──▶ furrow load postgres (throwaway PostgreSQL)
 *                                                     └──▶ furrow forward ──▶ HTTP destination on 127.0.0.1
 *
 * Asserted for every process: it never exits on its own input (the collector answers /health after the flood
 * and exits 0 on SIGTERM; the others exit 0 at the end of their input), and its peak RSS (ru_maxrss at exit,
 * test/support/peak-rss.mjs) stays under PEAK_RSS_MB. Asserted for every input:
 *   - every whole request gets an HTTP answer; an accepted tracking request leaves at least one record or
 *     collector bad row (named by its X-Forwarded-For address), a refused one (4xx/5xx) none;
 *   - every record becomes enricher output exactly as the accounting rule says: one output for a record that
 *     cannot be read or fails as a whole (format, adapter, tracker protocol, size), else one good line or bad
 *     row per event; every event id that reached the enricher intact is in exactly one output;
 *   - every TSV line is loaded or a loader bad row, and delivered or dead-lettered, exactly once; every good
 *     line the enricher wrote loads (the enricher never writes what the loader refuses).
 *
 * Reproduce a run: FURROW_FUZZ_SEED=<seed> npx tap test/fuzz/hostile-input.test.ts (the seed is printed); a longer
 * run: FURROW_FUZZ_SCALE=<factor>; keep the files: FURROW_FUZZ_KEEP=1.
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { decodeCollectorPayload, type CollectorPayload } from '../../formats/collector-payload.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { fuzzLine, fuzzRecord, fuzzRequest, eidPattern, recordTag, Rng, type FuzzRecord, type FuzzRequest } from '../support/fuzz.js';
import { collectorPayloadView } from '../support/thrift-binary.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { REPO_ROOT } from '../support/fixtures.js';
import { startServer } from '../forwarders/helpers.js';

const DEFAULT_SEED = 0x5eed1505;
const envSeed = process.env['FURROW_FUZZ_SEED'];
const SEED = envSeed === undefined || envSeed === '' ? DEFAULT_SEED : Number(envSeed) >>> 0;
if (envSeed !== undefined && envSeed !== '' && !Number.isInteger(Number(envSeed))) throw new Error(`FURROW_FUZZ_SEED must be an integer (0x… allowed), not ${envSeed}`);
/**
 * Items per layer. FURROW_FUZZ_SCALE (a factor, 0 < scale <= 50; default 1) multiplies them for a longer run; item i
 * is the same for a seed whatever the count, so a larger run extends the default one.
 */
const envScale = process.env['FURROW_FUZZ_SCALE'];
const SCALE = envScale === undefined || envScale === '' ? 1 : Number(envScale);
if (!(SCALE > 0 && SCALE <= 50)) throw new Error(`FURROW_FUZZ_SCALE must be a number in (0, 50], not ${envScale}`);
const COUNTS = { requests: Math.ceil(320 * SCALE), records: Math.ceil(480 * SCALE), lines: Math.ceil(480 * SCALE) };
/**
 * Peak RSS bound per process, in MiB. Measured on the default seed (Node 20, x86-64, 4 runs): collector 128-139,
 * enrich 313-328, load postgres 196-248, forward 193-248 (see docs/security.md, "Fuzz test"); the bound leaves
 * ~1.5x headroom over the largest for other seeds and Node versions, and is far below what an unbounded buffer, a
 * decompression bomb or an amplifying record takes (GBs).
 */
const PEAK_RSS_MB = 512;
/** Bound on any one process (a hang is a failure, not a wait). */
const PROCESS_TIMEOUT_MS = 120_000;

const PEAK_RSS_PRELOAD = join(REPO_ROOT, 'test', 'support', 'peak-rss.mjs');
const dir = mkdtempSync(join(tmpdir(), 'furrow-fuzz-'));
// FURROW_FUZZ_KEEP=1 keeps the generated inputs and every process's output for a look after a failure.
const keep = process.env['FURROW_FUZZ_KEEP'] === '1';
t.teardown(() => (keep ? t.comment(`inputs and outputs kept in ${dir}`) : rmSync(dir, { recursive: true, force: true })));
t.comment(`fuzz seed ${SEED} (0x${SEED.toString(16)}), scale ${SCALE}: ${COUNTS.requests} requests, ${COUNTS.records} records, ${COUNTS.lines} lines; reproduce with FURROW_FUZZ_SEED=${SEED} FURROW_FUZZ_SCALE=${SCALE} npx tap test/fuzz/hostile-input.test.ts`);

// ------------------------------------------------------------------------------------------------
// Processes

interface Proc {
  name: string;
  child: ChildProcess;
  stdout: () => Buffer;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Peak RSS in MiB, read after exit (null: the process did not report it). */
  peakRssMb: () => number | null;
}

function furrow(name: string, args: string[]): Proc {
  const rssFile = join(dir, `${name}.rss`);
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', PEAK_RSS_PRELOAD, 'bin/furrow.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, FURROW_PEAK_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const guard = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  const exited = new Promise<number | null>((r) => child.on('close', (code, signal) => {
    clearTimeout(guard);
    r(signal === null ? code : -1);
  }));
  return {
    name, child, exited,
    stdout: () => Buffer.concat(out),
    stderr: () => err,
    peakRssMb: () => (existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : null),
  };
}

function logLines(p: Proc): Array<Record<string, unknown>> {
  return p.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function checkProcessEnd(t: Test, p: Proc, code: number | null): void {
  t.equal(code, 0, `${p.name} exits 0${code === 0 ? '' : `: ${p.stderr().slice(-2000)}`}`);
  t.notMatch(p.stderr(), /RangeError|Maximum call stack|heap out of memory|uncaughtException|unhandledRejection/, `${p.name}: no crash in its log`);
  const rss = p.peakRssMb();
  t.ok(rss !== null && rss < PEAK_RSS_MB, `${p.name} peak RSS ${rss?.toFixed(0)} MiB < ${PEAK_RSS_MB} MiB`);
  t.comment(`${p.name}: peak RSS ${rss?.toFixed(1)} MiB`);
}

async function waitForLog(p: Proc, msg: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const hit = logLines(p).find((l) => l['msg'] === msg);
    if (hit !== undefined) return hit;
    if (p.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${p.name}: no '${msg}' log line: ${p.stderr().slice(-2000)}`);
}

// ------------------------------------------------------------------------------------------------
// Raw HTTP

interface Answer {
  status: number | null;
  /** The connection was reset (the server closed with part of the request unread: an upload it refused early). */
  reset: boolean;
  contentType: string | null;
  body: string;
  error: string | null;
}

/** Sends raw bytes on a fresh socket and reads the answer until the server closes (Connection: close). */
function exchange(port: number, r: FuzzRequest): Promise<Answer> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let error: string | null = null;
    let reset = false;
    const timer = setTimeout(() => {
      error = 'no answer within 20 s';
      sock.destroy();
    }, 20_000);
    sock.on('connect', () => {
      // A request whose declared body is longer than what is sent ends with our FIN (a client that gave up).
      if (r.complete) sock.write(r.raw);
      else sock.end(r.raw);
    });
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
      else error = e.message;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const headEnd = text.indexOf('\r\n\r\n');
      const head = headEnd === -1 ? text : text.slice(0, headEnd);
      const ct = /\r\ncontent-type: *([^\r\n]*)/i.exec(head);
      resolve({ status: m ? Number(m[1]) : null, reset, contentType: ct ? ct[1]!.toLowerCase() : null, body: headEnd === -1 ? '' : text.slice(headEnd + 4), error });
    });
  });
}

async function pool<T, R>(items: readonly T[], width: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k]!);
    }
  }));
  return out;
}

// ------------------------------------------------------------------------------------------------
// Output attribution: which input an output came from

const IP_RE = /\b10\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g;
const RECORD_TAG_RE = /ssc-fz-(\d+)-\1(?!\d)/g;
const FRAMED_TAG_RE = /ssc-fzf-(\d+x\d+)-\1(?![\dx])/g;
const LINE_TAG_RE = /fzl-(\d+)-\1(?!\d)/g;

function matches(re: RegExp, text: string): string[] {
  return [...text.matchAll(re)].map((m) => m[0]);
}

function ipIndex(ip: string): number {
  const [, a, b, c] = /^10\.(\d+)\.(\d+)\.(\d+)$/.exec(ip)!.map(Number) as [number, number, number, number];
  return (a << 16) | (b << 8) | c;
}

const PAYLOAD_LEVEL = new Set(['collector_payload_format_violation', 'size_violation', 'adapter_failures', 'tracker_protocol_violations']);

interface Output {
  kind: 'good' | string;
  /** The text searched for tags, IPs and event ids (a bad row's base64 payload decoded). */
  text: string;
  /** base64 payload of a record-level bad row (collector_payload_format_violation, size_violation). */
  b64: string | null;
}

function badRowOutput(line: string): Output {
  const row = JSON.parse(line) as { schema: string; data: { payload: unknown } };
  const kind = /badrows\/([a-z_]+)\//.exec(row.schema)?.[1] ?? 'unknown';
  let text = line;
  let b64: string | null = null;
  if ((kind === 'collector_payload_format_violation' || kind === 'size_violation') && typeof row.data.payload === 'string') {
    b64 = row.data.payload;
    let bytes = Buffer.from(b64, 'base64');
    try {
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes, { maxOutputLength: 1 << 20 });
    } catch {
      // not compressed after all
    }
    text += '\n' + bytes.toString('latin1');
  }
  return { kind, text, b64 };
}

/** Events the enricher must see in a readable payload that does not fail as a whole (the accounting rule). */
function eventsInPayload(p: CollectorPayload): number {
  if (p.body === undefined || p.body === '') return 1;
  if (p.path === '/com.snowplowanalytics.snowplow/tp2') return (JSON.parse(p.body) as { data: unknown[] }).data.length;
  if (p.path === '/com.snowplowanalytics.iglu/v1') {
    const v = JSON.parse(p.body) as unknown;
    return Array.isArray(v) ? v.length : 1;
  }
  return 1;
}

/** True when exactly one querystring parameter holds the event id, and it is `eid` or `elementId` (Iglu webhook). */
function idParamIntact(qs: string, eid: string): boolean {
  const holding = qs.split('&').filter((s) => s.includes(eid));
  return holding.length === 1 && (holding[0] === `eid=${eid}` || holding[0] === `elementId=${eid}`) && qs.split('&').filter((s) => s.startsWith('eid=')).length <= 1;
}

// ------------------------------------------------------------------------------------------------
// Shared state between the layers (each layer needs the one before)

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
let eidCounter = 0;
const nextEid = (): number => eidCounter++;
let collectorLines: string[] = [];
/** Requests that left records in (a): each must leave enricher output in (b). */
let acceptedRequests: FuzzRequest[] = [];
const resolver = join(dir, 'resolver.json');
writeFileSync(resolver, JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
  data: { cacheSize: 500, repositories: [{ name: 'built-in', priority: 0, vendorPrefixes: [], connection: { embedded: { path: REPO_ROOT } } }] },
}));
let enricherGood: string[] = [];
let db: TestPostgres | undefined;
const dbReady = startPostgres().then((d) => (db = d));
dbReady.catch(() => undefined);
t.teardown(async () => {
  await dbReady.catch(() => undefined);
  await db?.stop();
});

t.test('(a) mutated tracker requests → furrow collector', async (t) => {
  const config = join(dir, 'collector.hocon');
  writeFileSync(config, `collector {
    interface = "127.0.0.1"
    port = 0
    preTerminationPeriod = 0 seconds
    enableDefaultRedirect = true
    streams { good { name = good, maxBytes = 1000000 }, bad { name = bad, maxBytes = 1000000 } }
  }`);
  const p = furrow('collector', ['collector', '--config', config, '--sink', 'stdout']);
  t.teardown(() => p.child.kill('SIGKILL'));
  const port = (await waitForLog(p, 'collector listening'))['port'] as number;

  const requests = Array.from({ length: COUNTS.requests }, (_, i) => fuzzRequest(SEED, i, nextEid, NOW));
  const answers = await pool(requests, 6, (r) => exchange(port, r));

  // A server that answers a large upload before reading it (413, 415, 404) and closes makes the kernel reset the
  // connection (unread data), and a reset discards the answer on the client's side: for such requests a reset
  // counts as the refusal it is (and they must have stored nothing, below).
  const unanswered = requests.filter((r, k) => r.complete && answers[k]!.status === null && !(answers[k]!.reset && r.raw.length > 65_536));
  t.same(unanswered.map((r) => `#${r.i} ${r.mutations.join(',')}: ${answers[r.i]!.error ?? 'closed without an answer'}`), [], 'every whole request gets an HTTP answer');
  const statuses = new Map<number | null, number>();
  for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  t.comment(`answers: ${[...statuses].map(([s, n]) => `${s ?? 'none'}×${n}`).join(' ')}`);

  const health = await exchange(port, { ...requests[0]!, raw: Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), complete: true });
  t.equal(health.status, 200, 'the collector still answers /health after the flood');
  t.equal(p.child.exitCode, null, 'the collector is still running');
  p.child.kill('SIGTERM');
  checkProcessEnd(t, p, await p.exited);

  // Records on stdout (base64 Thrift, one per line); bad rows on stderr (base64 JSON), logs on stderr (JSON).
  collectorLines = p.stdout().toString('latin1').split('\n').filter((l) => l !== '');
  const undecodable: string[] = [];
  const recordsOf = new Map<number, number>();
  for (const line of collectorLines) {
    const bytes = Buffer.from(line, 'base64');
    try {
      collectorPayloadView(bytes); // the independent Thrift reader: IDL field types, nothing after the struct
      const rec = decodeCollectorPayload(bytes);
      if (rec.ipAddress !== undefined && /^10\./.test(rec.ipAddress)) recordsOf.set(ipIndex(rec.ipAddress), (recordsOf.get(ipIndex(rec.ipAddress)) ?? 0) + 1);
    } catch (e) {
      undecodable.push(`${(e as Error).message}: ${line.slice(0, 80)}`);
    }
  }
  t.same(undecodable, [], 'every record the collector writes is a well-formed CollectorPayload');
  const badOf = new Map<number, number>();
  const collectorBad = p.stderr().split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  for (const l of collectorBad) {
    const text = Buffer.from(l, 'base64').toString('utf8');
    t.doesNotThrow(() => JSON.parse(text), 'a collector bad row is JSON');
    const ip = /ipAddress:(10\.\d+\.\d+\.\d+)/.exec(text)?.[1];
    if (ip !== undefined) badOf.set(ipIndex(ip), (badOf.get(ipIndex(ip)) ?? 0) + 1);
  }

  const lost: string[] = [];
  const storedAndRefused: string[] = [];
  for (const r of requests) {
    const a = answers[r.i]!;
    if (r.ip === null) continue;
    const stored = (recordsOf.get(r.i) ?? 0) + (badOf.get(r.i) ?? 0);
    if (a.status === null) {
      if (stored > 0) storedAndRefused.push(`#${r.i} reset without an answer but stored ${r.mutations.join(',')}`);
      continue;
    }
    const accepted = (a.status === 200 && (a.contentType === 'image/gif' || a.body === 'ok')) || (a.status === 302 && r.raw.includes('/r/'));
    if (accepted && stored === 0) lost.push(`#${r.i} ${a.status} ${r.mutations.join(',')}`);
    // A refusal must not store the request too (a tracker retries it). /r/ answers 400 for a bad `u` after storing;
    // bytes after a request are a second request, whose 400 (Node's parser) can come before the first's answer.
    if (a.status >= 400 && stored > 0 && !r.pipelined && !/^[A-Z]+ \/r\//.test(r.raw.toString('latin1', 0, 40))) storedAndRefused.push(`#${r.i} ${a.status} ${r.mutations.join(',')}`);
  }
  t.same(lost, [], 'every accepted tracking request left a record or a collector bad row');
  t.same(storedAndRefused, [], 'no refused request was stored');
  t.comment(`collector: ${COUNTS.requests} requests, ${collectorLines.length} records, ${collectorBad.length} bad rows`);
  acceptedRequests = requests.filter((r) => r.ip !== null && (recordsOf.get(r.i) ?? 0) > 0);
});

t.test('(b) collector records and mutated Thrift records → furrow enrich', async (t) => {
  const records: FuzzRecord[] = Array.from({ length: COUNTS.records }, (_, i) => fuzzRecord(SEED, i, nextEid, NOW));
  const input = join(dir, 'records.b64');
  const inputLines = [...collectorLines, ...records.map((r) => r.line)];
  writeFileSync(input, inputLines.join('\n') + '\n');
  const enrichments = join(dir, 'enrichments');
  mkdirSync(enrichments, { recursive: true });
  const enrichment = (schema: string, name: string, parameters: unknown) =>
    writeFileSync(join(enrichments, `${name}.json`), JSON.stringify({ schema, data: { vendor: schema.split('/')[0]!.slice(5), name, enabled: true, parameters } }));
  enrichment('iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1', 'campaign_attribution', { mapping: 'static', fields: { mktMedium: ['utm_medium'], mktSource: ['utm_source'], mktTerm: ['utm_term'], mktContent: ['utm_content'], mktCampaign: ['utm_campaign'] } });
  enrichment('iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1', 'event_fingerprint_config', { excludeParameters: ['eid', 'stm'], hashAlgorithm: 'SHA256' });
  enrichment('iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0', 'cookie_extractor_config', { cookies: ['sp', 'other'] });
  enrichment('iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0', 'http_header_extractor_config', { headersPattern: 'User-Agent|Origin|Referer' });
  const conf = join(dir, 'enrich.hocon');
  writeFileSync(conf, '"license": { "accept": true }\n"decompression": { "maxBytesInBatch": 16000000 }\n');
  const out = join(dir, 'enriched');
  const p = furrow('enrich', ['enrich', '--config', conf, '--iglu-config', resolver, '--enrichments', enrichments, '--offline', '--input', input, '--output', out]);
  t.teardown(() => p.child.kill('SIGKILL'));
  checkProcessEnd(t, p, await p.exited);

  const good = readFileSync(join(out, 'good.tsv'), 'utf8').split('\n').filter((l) => l !== '');
  const badLines = readFileSync(join(out, 'bad.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
  enricherGood = good;
  const finished = logLines(p).find((l) => l['msg'] === 'enrich finished') ?? {};
  const nonBlank = inputLines.filter((l) => l.trim() !== '').length;
  t.equal(finished['records'], nonBlank, 'every input line was read as one record');
  t.equal(finished['dropped'], 0);
  t.equal(finished['events'], good.length + badLines.length, `events in (${finished['events']}) = good (${good.length}) + bad (${badLines.length}) out`);
  t.same(good.filter((l) => l.split('\t').length !== ENRICHED_FIELDS.length).map((l) => l.slice(0, 120)), [], 'every good line has the 131 columns');
  const outputs: Output[] = good.map((l) => ({ kind: 'good', text: l, b64: null }));
  const unreadable: string[] = [];
  for (const l of badLines) {
    try {
      outputs.push(badRowOutput(l));
    } catch (e) {
      unreadable.push(`${(e as Error).message}: ${l.slice(0, 100)}`);
    }
  }
  t.same(unreadable, [], 'every bad row is a self-describing JSON line');
  const kinds = new Map<string, number>();
  for (const o of outputs) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
  t.comment(`enrich: ${nonBlank} records → ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);

  // Index the outputs by every name they carry.
  const byKey = new Map<string, Output[]>();
  const add = (key: string, o: Output): void => {
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [o]);
    else if (!list.includes(o)) list.push(o);
  };
  const eidRe = eidPattern(SEED);
  for (const o of outputs) {
    for (const k of matches(RECORD_TAG_RE, o.text)) add(k, o);
    for (const k of matches(FRAMED_TAG_RE, o.text)) add(k, o);
    for (const k of matches(IP_RE, o.text)) add(k, o);
    for (const k of matches(eidRe, o.text)) add(k, o);
    if (o.b64 !== null) add(`b64:${o.b64}`, o);
  }
  const outputsOf = (key: string): Output[] => byKey.get(key) ?? [];

  // Generated records, by the accounting rule.
  const problems: string[] = [];
  let checked = 0;
  for (const r of records) {
    const label = `record #${r.i} [${r.mutations.join(',')}]`;
    if (r.framedTags.length > 0) {
      for (const tag of r.framedTags) {
        const n = outputsOf(tag).length;
        if (n !== 1) problems.push(`${label} framed payload ${tag}: ${n} outputs, expected 1`);
      }
      checked++;
      continue;
    }
    let decoded: CollectorPayload | null = null;
    try {
      decoded = decodeCollectorPayload(r.bytes);
    } catch {
      decoded = null;
    }
    const byBytes = outputsOf(`b64:${r.bytes.toString('base64')}`);
    const byTag = decoded !== null && decoded.collector === r.tag ? outputsOf(r.tag) : null;
    const mine = byTag === null ? byBytes : [...new Set([...byTag, ...byBytes])];
    if (decoded === null || byTag === null) {
      // Unreadable, or its tag is gone: only a record-level bad row can name it, by its bytes.
      if (decoded === null && byBytes.length !== 1) problems.push(`${label}: unreadable record gave ${byBytes.length} bad rows naming its bytes, expected 1`);
      else if (decoded === null) checked++;
      continue;
    }
    checked++;
    if (r.thriftMutated) {
      if (mine.length !== 1) problems.push(`${label}: ${mine.length} outputs, expected exactly 1 (one-event record)`);
      continue;
    }
    if (mine.length === 0) {
      problems.push(`${label}: no output`);
      continue;
    }
    const whole = mine.filter((o) => PAYLOAD_LEVEL.has(o.kind));
    if (whole.length > 0) {
      if (mine.length !== 1) problems.push(`${label}: a ${whole[0]!.kind} bad row for the whole record and ${mine.length - 1} more outputs`);
      continue;
    }
    let expected: number;
    try {
      expected = eventsInPayload(decoded);
    } catch (e) {
      problems.push(`${label}: the enricher read events from a body that does not parse (${(e as Error).message})`);
      continue;
    }
    if (mine.length !== expected) problems.push(`${label}: ${mine.length} outputs for ${expected} events`);
  }
  t.same(problems, [], `every generated record gives the outputs the accounting rule says (${checked} records checked)`);

  // Every event id that reached the enricher intact (in exactly one record, not under byte-level mutations,
  // the only eid of its querystring) is in exactly one output.
  const holders = new Map<string, number>();
  const eligible = new Set<string>();
  const noteRecord = (bytes: Buffer, intact: boolean): void => {
    let p: CollectorPayload | null = null;
    try {
      p = decodeCollectorPayload(bytes);
    } catch {
      p = null;
    }
    const text = bytes.toString('latin1');
    for (const e of new Set(matches(eidRe, text))) {
      holders.set(e, (holders.get(e) ?? 0) + 1);
      if (!intact || p === null) continue;
      const qs = p.querystring ?? '';
      if (qs.includes(e) && !idParamIntact(qs, e)) continue;
      eligible.add(e);
    }
  };
  for (const l of collectorLines) noteRecord(Buffer.from(l, 'base64'), true);
  for (const r of records) if (r.framedTags.length === 0) noteRecord(r.bytes, !r.thriftMutated);
  const eidProblems: string[] = [];
  for (const e of eligible) {
    if (holders.get(e) !== 1) continue;
    const n = outputsOf(e).length;
    if (n !== 1) eidProblems.push(`event ${e}: in ${n} outputs (${outputsOf(e).map((o) => o.kind).join(', ')})`);
  }
  t.same(eidProblems, [], `every event that reached the enricher is in exactly one output (${eligible.size} event ids)`);

  // The chain: every request the collector stored has enricher output.
  const silent = acceptedRequests.filter((r) => outputsOf(r.ip!).length === 0).map((r) => `#${r.i} ${r.mutations.join(',')}`);
  t.same(silent, [], `every stored request has enricher output (${acceptedRequests.length} requests)`);
});

t.test('(c) enriched and mutated TSV lines → furrow load postgres and furrow forward', async (t) => {
  await dbReady;
  const rng = new Rng(SEED ^ 0x7c);
  const fuzzLines = Array.from({ length: COUNTS.lines }, (_, i) => fuzzLine(SEED, i));
  // Mix the enricher's good lines and the mutated ones.
  const items: Buffer[] = [...enricherGood.map((l) => Buffer.from(l, 'utf8')), ...fuzzLines.map((l) => l.bytes)];
  for (let k = items.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [items[k], items[j]] = [items[j]!, items[k]!];
  }
  const input = join(dir, 'lines.tsv');
  const file = Buffer.concat(items.flatMap((b) => [b, Buffer.from('\n')]));
  writeFileSync(input, file);
  // Lines as both readers see them: split on LF, one CR before the LF dropped, empty lines skipped.
  const lineCount = file.toString('latin1').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l !== '').length;

  const badFile = join(dir, 'loader-bad.jsonl');
  const server = await startServer();
  t.teardown(() => server.close());
  const dlq = join(dir, 'dlq.jsonl');
  const fwdConfig = join(dir, 'forward.json');
  writeFileSync(fwdConfig, JSON.stringify({
    input: { type: 'file', path: input, batch_size: 100 },
    dead_letter: { type: 'file', path: dlq },
    destinations: [{ name: 'hook', target: { type: 'http', url: `${server.url}/e` } }],
  }));
  const load = furrow('load', ['load', 'postgres', '--url', db!.url, '--input', input, '--batch-size', '100', '--iglu-config', resolver, '--bad', badFile]);
  const forward = furrow('forward', ['forward', '--config', fwdConfig]);
  t.teardown(() => {
    load.child.kill('SIGKILL');
    forward.child.kill('SIGKILL');
  });
  const [loadCode, forwardCode] = await Promise.all([load.exited, forward.exited]);

  // --- furrow load postgres
  checkProcessEnd(t, load, loadCode);
  const totals = logLines(load).find((l) => l['msg'] === 'input finished') ?? {};
  t.equal((totals['loaded'] as number) + (totals['bad'] as number), lineCount, `every line loaded or a bad row (${totals['loaded']} + ${totals['bad']} of ${lineCount})`);
  const c = new pg.Client({ connectionString: db!.url });
  await c.connect();
  const rows = (await c.query<{ event_id: string; name_tracker: string | null }>('SELECT event_id, name_tracker FROM atomic.events')).rows;
  await c.end();
  t.equal(rows.length, totals['loaded'], 'the table holds what the loader reports');
  const badRows = existsSync(badFile) ? readFileSync(badFile, 'utf8').split('\n').filter((l) => l !== '') : [];
  t.equal(badRows.length, totals['bad'], 'the bad-row file holds what the loader reports');

  const loadedIds = new Map<string, number>();
  for (const r of rows) loadedIds.set(r.event_id, (loadedIds.get(r.event_id) ?? 0) + 1);
  const wanted = new Map<string, number>();
  for (const l of enricherGood) {
    const id = l.split('\t')[6]!;
    wanted.set(id, (wanted.get(id) ?? 0) + 1);
  }
  // What the loader refuses of the enricher's output: only values longer than a column of Snowplow's PostgreSQL
  // DDL (se_label is VARCHAR(1000) there, 4,096 in the atomic schema the enricher checks; a string property without
  // maxLength is VARCHAR(4096)), as loader_runtime_error bad rows. Nothing else (JSON depth, types, timestamps).
  const refusedFor = new Map<string, string[]>();
  for (const l of badRows) {
    const row = JSON.parse(l) as { schema: string; data: { failure: unknown; payload: unknown } };
    const p = row.data.payload;
    const id = typeof p === 'object' && p !== null ? String((p as Record<string, unknown>)['event_id']) : typeof p === 'string' ? p.split('\t')[6] ?? '' : '';
    if (!wanted.has(id)) continue;
    const why = `${row.schema.split('/')[1]}: ${JSON.stringify(row.data.failure).slice(0, 160)}`;
    refusedFor.set(id, [...(refusedFor.get(id) ?? []), why]);
  }
  const notLoaded = [...wanted].filter(([id, n]) => (loadedIds.get(id) ?? 0) + (refusedFor.get(id)?.length ?? 0) !== n).map(([id, n]) => `${id}: ${loadedIds.get(id) ?? 0} rows, ${refusedFor.get(id)?.length ?? 0} bad rows for ${n} lines`);
  t.same(notLoaded.slice(0, 20), [], `every good line the enricher wrote is loaded or a bad row, once (${enricherGood.length} lines)`);
  const refusedOtherwise = [...refusedFor].filter(([, why]) => why.some((w) => !/^loader_runtime_error: .*value too long for type character/.test(w)));
  t.same(refusedOtherwise.slice(0, 20), [], 'the loader refuses nothing the enricher writes but values longer than a PostgreSQL column');
  t.comment(`load postgres: ${refusedFor.size} enriched lines with a value longer than its PostgreSQL column`);

  const tagCount = (texts: Iterable<string>): Map<string, number> => {
    const m = new Map<string, number>();
    for (const s of texts) for (const k of new Set(matches(LINE_TAG_RE, s))) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const tagged = fuzzLines.filter((l) => new Set(matches(LINE_TAG_RE, l.bytes.toString('latin1'))).size === 1 && matches(LINE_TAG_RE, l.bytes.toString('latin1'))[0] === l.tag);
  const loadedTags = tagCount(rows.map((r) => r.name_tracker ?? ''));
  const badTags = tagCount(badRows);
  const loadProblems = tagged
    .filter((l) => (loadedTags.get(l.tag) ?? 0) + (badTags.get(l.tag) ?? 0) !== 1)
    .map((l) => `line #${l.i} [${l.mutations.join(',')}]: loaded ${loadedTags.get(l.tag) ?? 0}, bad rows ${badTags.get(l.tag) ?? 0}`);
  t.same(loadProblems, [], `every mutated line is loaded or a bad row, exactly once (${tagged.length} lines)`);
  t.comment(`load postgres: ${lineCount} lines → ${totals['loaded']} loaded, ${totals['bad']} bad rows`);

  // --- furrow forward
  checkProcessEnd(t, forward, forwardCode);
  type Summary = { read: number; totals: { delivered: number; deadLettered: number; filtered: number } };
  const last = forward.stdout().toString('utf8').trim().split('\n').pop() ?? '';
  let summary: Summary;
  try {
    summary = JSON.parse(last) as Summary;
  } catch {
    t.fail(`forward printed no summary (last stdout line: ${JSON.stringify(last.slice(0, 200))})`);
    return;
  }
  t.equal(summary.read, lineCount, 'every line read');
  t.equal(summary.totals.delivered + summary.totals.deadLettered + summary.totals.filtered, summary.read, 'every line delivered, filtered or dead-lettered');
  const delivered = server.accepted.flatMap((r) => JSON.parse(r.body) as Array<Record<string, unknown>>);
  t.equal(delivered.length, summary.totals.delivered, 'the destination got what the forwarder reports');
  const letters = existsSync(dlq) ? readFileSync(dlq, 'utf8').split('\n').filter((l) => l !== '') : [];
  t.equal(letters.length, summary.totals.deadLettered, 'the dead letter holds what the forwarder reports');
  const deliveredIds = new Map<string, number>();
  for (const e of delivered) deliveredIds.set(String(e['event_id']), (deliveredIds.get(String(e['event_id'])) ?? 0) + 1);
  const undelivered = [...wanted].filter(([id, n]) => deliveredIds.get(id) !== n).map(([id, n]) => `${id}: delivered ${deliveredIds.get(id) ?? 0} for ${n} lines`);
  t.same(undelivered.slice(0, 20), [], 'every good line the enricher wrote is delivered once');
  const sentTags = tagCount(delivered.map((e) => String(e['name_tracker'] ?? '')));
  const letterTags = tagCount(letters);
  const fwdProblems = tagged
    .filter((l) => (sentTags.get(l.tag) ?? 0) + (letterTags.get(l.tag) ?? 0) !== 1)
    .map((l) => `line #${l.i} [${l.mutations.join(',')}]: delivered ${sentTags.get(l.tag) ?? 0}, dead letters ${letterTags.get(l.tag) ?? 0}`);
  t.same(fwdProblems, [], `every mutated line is delivered or dead-lettered, exactly once (${tagged.length} lines)`);
  t.comment(`forward: ${summary.read} lines → ${summary.totals.delivered} delivered, ${summary.totals.deadLettered} dead-lettered`);
});
