/**
 * Recovery in furrow mini's UI, in Debian's chromium (playwright-core, headless): events that fail validation
 * form two bad-row groups; in the bad-rows panel a group is picked, the suggested fix ("use schema 1-0-1",
 * "drop field coupon") is previewed on one row (the enricher re-validates it), then applied — and the recovered
 * events arrive as good events, with the new schema, under the UI's Content-Security-Policy.
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { silentLogger } from '../../common/logger.js';
import { startMini } from '../../mini/pipeline.js';
import { writeSchemas } from './fixtures.js';

const ROOT = join(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';

function ue(data: Record<string, unknown>): string {
  return JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data } });
}

async function track(base: string, eid: string, data: Record<string, unknown>): Promise<void> {
  const q = new URLSearchParams({ e: 'ue', p: 'web', tv: 'js-3', aid: 'shop', eid, ue_pr: ue(data) });
  const res = await fetch(`${base}/i?${q.toString()}`);
  if (res.status !== 200) throw new Error(`collector answered ${res.status}`);
}

async function waitFor(base: string, q: string): Promise<void> {
  const res = await fetch(`${base}/micro/wait?${q}&timeout=20000`);
  if (res.status !== 200) throw new Error(`/micro/wait?${q}: ${res.status} ${await res.text()}`);
}

t.test('pick a bad-row group, preview a fix on one row, apply it: the events arrive as good', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install it with apt-get install -y chromium (.ci/run does)`);
    return;
  }
  const iglu = writeSchemas();
  // 1-0-1 allows the plan "enterprise" that 1-0-0's enum refuses.
  const d = join(iglu, 'schemas', 'com.acme', 'signup', 'jsonschema');
  writeFileSync(join(d, '1-0-1'), JSON.stringify({
    $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#',
    self: { vendor: 'com.acme', name: 'signup', format: 'jsonschema', version: '1-0-1' },
    type: 'object', properties: { plan: { type: 'string', enum: ['free', 'pro', 'enterprise'] }, seats: { type: 'integer', minimum: 1 } }, required: ['plan'], additionalProperties: false,
  }));
  const userDataDir = mkdtempSync(join(tmpdir(), 'furrow-mini-recovery-'));
  t.teardown(() => {
    rmSync(iglu, { recursive: true, force: true });
    rmSync(userDataDir, { recursive: true, force: true });
  });
  const mini = await startMini({
    port: 0, host: '127.0.0.1', igluDirs: [iglu], offline: true, enrichmentsDir: null, postgresUrl: null, forwardConfig: null,
    auth: { basic: null, token: null }, maxEvents: 10_000, logger: silentLogger,
  });
  t.teardown(() => mini.stop());
  const base = `http://127.0.0.1:${mini.port}`;

  const enterprise = ['a1', 'a2', 'a3'].map((s) => `5a1e0000-0000-4000-8000-0000000000${s}`);
  const coupon = ['b1', 'b2'].map((s) => `5a1e0000-0000-4000-8000-0000000000${s}`);
  for (const eid of enterprise) await track(base, eid, { plan: 'enterprise', seats: 5 });
  for (const eid of coupon) await track(base, eid, { plan: 'pro', coupon: 'WELCOME' });
  await track(base, '5a1e0000-0000-4000-8000-0000000000c1', { plan: 'free' });
  await waitFor(base, 'good=1&bad=5');

  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 1400 },
  });
  t.teardown(() => context.close());
  const ui = await context.newPage();
  const cspViolations: string[] = [];
  ui.on('console', (m) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(m.text())) cspViolations.push(m.text());
  });
  await ui.goto(`${base}/micro/ui/`);
  await ui.waitForFunction(() => document.querySelectorAll('#groups tbody button.recover').length === 2, undefined, { timeout: 15_000 });

  // ---- group 1: plan "enterprise" is not in 1-0-0's enum → "use schema 1-0-1"
  const row = (text: string) => ui.locator('#groups tbody tr', { hasText: text });
  await row('enumeration').locator('button.recover').click();
  t.equal(await ui.inputValue('#fix-kind'), 'schema', 'the suggested fix is a schema version');
  t.equal(await ui.inputValue('#fix-from'), 'iglu:com.acme/signup/jsonschema/1-0-0');
  t.equal(await ui.inputValue('#fix-to'), 'iglu:com.acme/signup/jsonschema/1-0-1');
  t.equal(await ui.textContent('#recovery-count'), '3');
  t.same([await ui.isVisible('#fix-from'), await ui.isVisible('#fix-path'), await ui.isVisible('#fix-steps')], [true, false, false], 'only the fields of the chosen fix show');

  // A fix that is not enough first: send unchanged → the preview says still failing, with the enricher's reason.
  await ui.selectOption('#fix-kind', 'none');
  await ui.click('#recovery-preview');
  await ui.waitForFunction(() => document.querySelector('#recovery-result')?.getAttribute('data-outcome') === 'failed');
  t.match(await ui.textContent('#recovery-result'), /still failing — still failing after the fixes: schema_violations/);

  await ui.selectOption('#fix-kind', 'schema');
  await ui.click('#recovery-preview');
  await ui.waitForFunction(() => document.querySelector('#recovery-result')?.getAttribute('data-outcome') === 'recovered');
  const preview = (await ui.textContent('#recovery-result'))!;
  t.match(preview, 'preview on 1 of 3 rows: recovered');
  t.match(preview, '$.raw.parameters.ue_pr.data.schema: "iglu:com.acme/signup/jsonschema/1-0-0" → "iglu:com.acme/signup/jsonschema/1-0-1"');
  t.equal((await (await fetch(`${base}/micro/all`)).json() as { good: number }).good, 1, 'a preview sends nothing');

  await ui.click('#recovery-apply');
  await ui.waitForFunction(() => document.querySelector('#recovery-result')?.getAttribute('data-outcome') === 'applied');
  t.match(await ui.textContent('#recovery-result'), 'applied to 3 rows: recovered 3 (3 records sent to the enricher), still failing 0, skipped 0');
  await waitFor(base, 'good=4');
  const good = (await (await fetch(`${base}/micro/good`)).json()) as Array<{ event: { event_id: string; event_version: string; unstruct_event: { data: { schema: string } } } }>;
  for (const eid of enterprise) {
    const ev = good.find((g) => g.event.event_id === eid);
    t.ok(ev, `${eid} is a good event, with its event id`);
    t.equal(ev?.event.unstruct_event.data.schema, 'iglu:com.acme/signup/jsonschema/1-0-1');
  }
  // The table shows them: good events with the tracker's event ids.
  await ui.waitForSelector(`#events tbody tr[data-event-id="${enterprise[0]}"]`, { timeout: 15_000 });

  // Applying again sends nothing twice.
  await ui.click('#recovery-apply');
  await ui.waitForFunction(() => /skipped 3/.test(document.querySelector('#recovery-result')?.textContent ?? ''));

  // ---- group 2: an extra field → "drop field coupon"
  await row('coupon').locator('button.recover').click();
  t.equal(await ui.inputValue('#fix-kind'), 'remove');
  t.equal(await ui.inputValue('#fix-path'), '$.raw.parameters.ue_pr.data.data.coupon');
  await ui.click('#recovery-preview');
  await ui.waitForFunction(() => document.querySelector('#recovery-result')?.getAttribute('data-outcome') === 'recovered');
  t.match(await ui.textContent('#recovery-result'), '$.raw.parameters.ue_pr.data.data.coupon: "WELCOME" → (none)');
  await ui.click('#recovery-apply');
  await ui.waitForFunction(() => /recovered 2/.test(document.querySelector('#recovery-result')?.textContent ?? ''));
  await waitFor(base, 'good=6');
  const good2 = (await (await fetch(`${base}/micro/good`)).json()) as Array<{ event: { event_id: string; unstruct_event: { data: { data: Record<string, unknown> } } } }>;
  for (const eid of coupon) t.same(good2.find((g) => g.event.event_id === eid)?.event.unstruct_event.data.data, { plan: 'pro' }, `${eid} is good without coupon`);

  t.same(cspViolations, [], 'the recovery panel works under the UI CSP');
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  await ui.waitForFunction(() => document.querySelector('#count-good')?.textContent === '6');
  await ui.screenshot({ path: join(ROOT, 'test-output', 'mini-recovery.png'), fullPage: true });
});
