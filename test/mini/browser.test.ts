/**
 * furrow mini in a real browser: Debian's chromium (playwright-core, headless) loads a page served by this test
 * as http://localhost:PORT that runs @snowplow/browser-tracker (its UMD bundle) against the mini collector at
 * http://127.0.0.1:PORT — another site, as a page and a collector on different names are: a cross-site POST
 * with credentials (CORS), the `sp` network-user-id cookie (SameSite=None; Secure, which Chromium accepts from
 * a loopback collector over http), POST batching. The page cannot frame mini's UI (frame-ancestors 'none').
 * Then it opens /micro/ui/, checks the events show up (table, counts, bad-row groups, schemas, detail pane)
 * under the UI's Content-Security-Policy with no violation, and writes a screenshot to test-output/mini-ui.png.
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { silentLogger } from '../../common/logger.js';
import { startMini } from '../../mini/pipeline.js';
import { writeSchemas } from './fixtures.js';

const ROOT = join(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const require = createRequire(import.meta.url);
const trackerBundle = readFileSync(require.resolve('@snowplow/browser-tracker/dist/index.umd.min.js'), 'utf8');

function page(collector: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script src="/sp.js"></script></head><body><h1>A shop</h1><script>
  window.eids = [];
  const sp = snowplowBrowserTracking;
  sp.newTracker('sp1', ${JSON.stringify(collector)}, {
    appId: 'browser-e2e', platform: 'web', eventMethod: 'post', bufferSize: 3, credentials: 'include',
    contexts: { webPage: true }, stateStorageStrategy: 'cookieAndLocalStorage', encodeBase64: false,
  });
  sp.addPlugin({ plugin: { afterTrack: (p) => window.eids.push({ eid: p.eid, e: p.e }) } });
  window.run = async () => {
    sp.trackPageView({ title: 'Shop home' });
    sp.trackStructEvent({ category: 'cart', action: 'add', label: 'sku-9', value: 3 });
    sp.trackSelfDescribingEvent({ event: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'pro', seats: 2 } },
      context: [{ schema: 'iglu:com.acme/user/jsonschema/1-0-0', data: { id: 'b-1' } }] });
    await new Promise((r) => setTimeout(r, 800)); // the first batch of 3 goes out (and sets the sp cookie)
    sp.trackSelfDescribingEvent({ event: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'enterprise' } } });
    sp.trackPageView({ title: 'Checkout' });
    sp.flushBuffer();
  };
</script></body></html>`;
}

t.test('browser tracker in chromium → mini → /micro/ui', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install it with apt-get install -y chromium (.ci/run does)`);
    return;
  }
  const iglu = writeSchemas();
  const userDataDir = mkdtempSync(join(tmpdir(), 'furrow-mini-chromium-'));
  t.teardown(() => {
    rmSync(iglu, { recursive: true, force: true });
    rmSync(userDataDir, { recursive: true, force: true });
  });
  const mini = await startMini({
    port: 0, host: '127.0.0.1', igluDirs: [iglu], offline: true, enrichmentsDir: null, postgresUrl: null, forwardConfig: null,
    auth: { basic: null, token: null }, maxEvents: 10_000, logger: silentLogger,
  });
  t.teardown(() => mini.stop());
  const collector = `http://127.0.0.1:${mini.port}`;

  const site = createServer((req, res) => {
    if (req.url === '/sp.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(trackerBundle);
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(page(collector));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => site.close(() => r())));
  // Another site than the collector's 127.0.0.1: a SameSite=Lax cookie would not come back on its POSTs.
  const siteUrl = `http://localhost:${(site.address() as AddressInfo).port}/`;

  // Debian's chromium profile blocks third-party cookies by default (CDP's blocked reason "UserPreferences"),
  // which no cookie attribute can get past; Chrome's default (and most users') allows them. Start from that
  // setting, so what is tested is the cookie's own attributes: SameSite=Lax is refused cross-site ("SameSiteLax"),
  // SameSite=None; Secure from a loopback collector is kept.
  mkdirSync(join(userDataDir, 'Default'), { recursive: true });
  writeFileSync(join(userDataDir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 1100 },
  });
  t.teardown(() => context.close());
  const browserPage = await context.newPage();
  const posts: Array<Promise<{ events: number; cookie: string | null; origin: string | null }>> = [];
  browserPage.on('request', (req) => {
    if (req.method() === 'POST' && req.url().startsWith(collector)) {
      const body = JSON.parse(req.postData() ?? '{}') as { data?: unknown[] };
      // allHeaders(): the headers as sent, including Cookie and Origin.
      posts.push(req.allHeaders().then((h) => ({ events: body.data?.length ?? 0, cookie: h.cookie ?? null, origin: h.origin ?? null })));
    }
  });
  const responses: number[] = [];
  browserPage.on('response', (r) => {
    if (r.url().startsWith(collector) && r.request().method() === 'POST') responses.push(r.status());
  });
  const pageErrors: string[] = [];
  browserPage.on('pageerror', (e) => pageErrors.push(e.message));

  await browserPage.goto(siteUrl);
  await browserPage.evaluate(() => (window as unknown as { run(): Promise<void> }).run());
  const eids = await browserPage.evaluate(() => (window as unknown as { eids: Array<{ eid: string; e: string }> }).eids);
  t.equal(eids.length, 5, 'the page tracked five events');
  t.same(pageErrors, []);

  const wait = (await (await fetch(`${collector}/micro/wait?event_id=${eids.map((e) => e.eid).join(',')}&timeout=20000`)).json()) as { ok: boolean; missing: string[] };
  t.equal(wait.ok, true, `every browser event processed (missing ${wait.missing.join(',')})`);
  t.same(await (await fetch(`${collector}/micro/all`)).json(), { total: 5, good: 4, bad: 1 });

  const sent = await Promise.all(posts);
  t.ok(sent.length >= 2, `events went out as POST batches (${sent.map((p) => p.events).join('+')})`);
  t.equal(sent[0]!.events, 3, 'the first POST carried a batch of 3 events');
  t.equal(sent[0]!.origin, siteUrl.slice(0, -1), 'cross-origin request (CORS)');
  t.ok(responses.every((s) => s === 200), `collector answered 200 to the browser (${responses.join(',')})`);
  t.match(sent[sent.length - 1]!.cookie ?? '', /(^|; )sp=[0-9a-f-]{36}/, 'the browser sent back the sp cookie the collector set (cross-site)');

  // The page may not frame mini's UI (clickjacking the Reset button).
  const refusedFrame = browserPage.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), timeout: 15_000 });
  await browserPage.evaluate((src) => {
    const f = document.createElement('iframe');
    f.src = src;
    document.body.append(f);
  }, `${collector}/micro/ui/`);
  t.match((await refusedFrame).text(), /frame-ancestors 'none'.*blocked/, 'Chromium refused to frame the UI');

  const good = (await (await fetch(`${collector}/micro/good`)).json()) as Array<{ event: Record<string, unknown>; contexts: string[]; eventType: string }>;
  const nuids = new Set(good.map((g) => g.event.network_userid));
  t.equal(nuids.size, 1, 'one network_userid across both requests: the cookie identified the browser');
  const pv = good.find((g) => g.eventType === 'page_view' && g.event.page_title === 'Shop home')!;
  t.equal(pv.event.page_url, siteUrl);
  t.ok(pv.contexts.includes('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0'), 'web_page context from the browser tracker');
  t.match(String(pv.event.useragent), /Chrome/);
  t.ok(pv.event.domain_userid, 'domain_userid from the tracker cookie');
  t.ok(good.some((g) => (g.event.derived_contexts as { data?: Array<{ schema: string }> }).data?.some((d) => d.schema.includes('ua_parser_context'))), 'ua-parser enrichment derived a context');

  // ---- the UI
  const ui = await context.newPage();
  const uiErrors: string[] = [];
  ui.on('pageerror', (e) => uiErrors.push(e.message));
  const cspViolations: string[] = [];
  ui.on('console', (m) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(m.text())) cspViolations.push(m.text());
  });
  const external: string[] = [];
  ui.on('request', (r) => {
    if (!r.url().startsWith(collector) && !r.url().startsWith('data:')) external.push(r.url());
  });
  const uiResponse = await ui.goto(`${collector}/micro/ui/`);
  const uiHeaders = uiResponse?.headers() ?? {};
  t.match(uiHeaders['content-security-policy'] ?? '', /script-src 'self'.*frame-ancestors 'none'/, 'the UI is served with its CSP');
  t.equal(uiHeaders['x-content-type-options'], 'nosniff');
  await ui.waitForSelector(`#events tbody tr[data-event-id="${eids[0]!.eid}"]`, { timeout: 15_000 });
  for (const e of eids) t.equal(await ui.locator(`#events tbody tr[data-event-id="${e.eid}"]`).count(), 1, `event ${e.e} ${e.eid} in the table`);
  t.equal(await ui.textContent('#count-total'), '5');
  t.equal(await ui.textContent('#count-good'), '4');
  t.equal(await ui.textContent('#count-bad'), '1');
  await ui.waitForSelector('#live-dot.on', { timeout: 5000 });
  t.match(await ui.textContent('#groups tbody') ?? '', /schema_violations/);
  t.match(await ui.textContent('#schemas tbody') ?? '', /iglu:com\.acme\/signup\/jsonschema\/1-0-0/);
  t.ok((await ui.locator('#chart rect.good').count()) > 0, 'the chart has good bars');
  t.ok((await ui.locator('#chart rect.bad').count()) > 0, 'the chart has bad bars');
  const sd = eids.find((e) => e.e === 'ue')!;
  await ui.click(`#events tbody tr[data-event-id="${sd.eid}"]`);
  await ui.waitForFunction((id) => document.querySelector('#detail-json')?.textContent?.includes(id), sd.eid);
  t.match(await ui.textContent('#detail-json') ?? '', /com\.acme\/signup/);

  // Filters are server-side: only bad events.
  await ui.selectOption('#f-valid', 'false');
  await ui.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 1 && !!document.querySelector('#events tbody .badge.bad'));
  t.pass('status filter shows the one bad event');
  t.match(new URL(ui.url()).hash, /valid=false/, 'the view is in the URL (shareable)');
  await ui.reload();
  await ui.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 1 && !!document.querySelector('#events tbody .badge.bad'));
  t.equal(await ui.inputValue('#f-valid'), 'false', 'a shared URL restores the filters');
  await ui.selectOption('#f-valid', '');
  await ui.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 5);
  await ui.click(`#events tbody tr[data-event-id="${sd.eid}"]`);
  await ui.waitForFunction((id) => document.querySelector('#detail-json')?.textContent?.includes(id), sd.eid);

  // Live update: a new event shows up without a reload.
  const extra = crypto.randomUUID();
  await fetch(`${collector}/i?e=pv&p=web&tv=live-1&aid=live&eid=${extra}&url=${encodeURIComponent('http://live.example/')}`);
  await ui.waitForSelector(`#events tbody tr[data-event-id="${extra}"]`, { timeout: 15_000 });
  await ui.waitForFunction(() => document.querySelector('#count-total')?.textContent === '6');
  t.pass('a new event appeared live');

  t.same(uiErrors, [], 'no script errors in the UI');
  t.same(cspViolations, [], 'the UI works under its CSP: nothing refused');
  t.same(external, [], 'the UI requested nothing outside mini');
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  await ui.screenshot({ path: join(ROOT, 'test-output', 'mini-ui.png'), fullPage: true });
});
