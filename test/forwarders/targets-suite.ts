/**
 * Each target against a real HTTP server on 127.0.0.1 that checks requests the way the vendor documents them
 * (method, path, query, auth, content type, body fields, identity, time format, per-request limits) and
 * answers 400 on any violation, for a given input. targets.test.ts runs it on generated events of every kind;
 * `npm run conformance` runs it again with Snowplow's full-TSV test events added (test-conformance/forwarders-corpus.test.ts).
 */
import t from 'tap';
import { generateLines, kindOf, column } from './tsv-generator.js';
import { runForward, startServer, type RecordedRequest, type Reply } from './helpers.js';

/** How many generated events the suite's input starts with (some tests generate the same events again). */
export const N = 260;

const SECRET = {
  GA4_API_SECRET: 'ga4-sekret-abc123',
  AMPLITUDE_API_KEY: 'amp-key-def456',
  MIXPANEL_PROJECT_TOKEN: 'mp-token-ghi789',
  BRAZE_API_KEY: 'braze-key-jkl012',
  HOOK_PASSWORD: 'hook-pass-mno345',
};

/** A vendor check: returns the list of problems with a request (empty = valid) and the event ids it carried. */
type Check = (r: RecordedRequest) => { problems: string[]; ids: string[] };

function vendorServer(check: Check, ok: Reply) {
  const problems: string[] = [];
  const delivered: string[] = [];
  return {
    problems,
    delivered,
    reply: (r: RecordedRequest): Reply => {
      const c = check(r);
      if (c.problems.length > 0) {
        problems.push(...c.problems);
        return { status: 400, body: JSON.stringify({ problems: c.problems }) };
      }
      delivered.push(...c.ids);
      return ok;
    },
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Registers the target tests on `lines`; the first lines must be generateLines() output (kinds in KINDS order). */
export function targetTests(lines: readonly string[]): void {
  const ids = lines.map((l) => column(l, 'event_id'));

  t.test('GA4 Measurement Protocol', async (t) => {
    const now = Date.now();
    const v = vendorServer((r) => {
      const p: string[] = [];
      if (r.method !== 'POST') p.push(`method ${r.method}`);
      if (r.url.pathname !== '/mp/collect') p.push(`path ${r.url.pathname}`);
      if (r.url.searchParams.get('measurement_id') !== 'G-TEST123') p.push('measurement_id');
      if (r.url.searchParams.get('api_secret') !== SECRET.GA4_API_SECRET) p.push('api_secret');
      if (!String(r.headers['content-type']).startsWith('application/json')) p.push('content-type');
      if (Buffer.byteLength(r.body) >= 130 * 1024) p.push('body ≥ 130 kB');
      const b = JSON.parse(r.body) as { client_id?: unknown; user_id?: unknown; events?: Array<{ name: string; params?: Record<string, unknown>; timestamp_micros?: number }> };
      if (typeof b.client_id !== 'string' || b.client_id === '') p.push('client_id');
      if (b.user_id !== undefined && typeof b.user_id !== 'string') p.push('user_id');
      if (!Array.isArray(b.events) || b.events.length === 0 || b.events.length > 25) p.push(`events ${b.events?.length}`);
      const got: string[] = [];
      for (const e of b.events ?? []) {
        if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(e.name)) p.push(`name ${e.name}`);
        const params = e.params ?? {};
        if (Object.keys(params).length > 25) p.push('params > 25');
        for (const [k, val] of Object.entries(params)) {
          if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(k)) p.push(`param ${k}`);
          if (typeof val === 'string' && val.length > (k === 'page_location' ? 1000 : k === 'page_title' ? 300 : k === 'page_referrer' ? 420 : 100)) p.push(`param ${k} too long`);
        }
        if (typeof e.timestamp_micros !== 'number' || now * 1000 - e.timestamp_micros > 72 * 3600e6 || e.timestamp_micros > (now + 60_000) * 1000) p.push('timestamp_micros');
        got.push(String(params.snowplow_event_id));
      }
      return { problems: p, ids: got };
    }, { status: 204, body: '' });
    const server = await startServer(v.reply);
    t.teardown(() => server.close());
    const { summary, deadLetters } = await runForward(
      {
        destinations: [
          {
            name: 'ga4',
            target: { type: 'ga4', base_url: server.url, measurement_id: 'G-TEST123', api_secret_env: 'GA4_API_SECRET', event_names: { 'com.acme/checkout_started': 'begin_checkout' } },
            batch: { flush_interval: '20 millis' },
          },
        ],
      },
      lines,
      { env: SECRET },
    );
    t.same(v.problems, [], 'every request valid for GA4');
    t.equal(summary.destinations.ga4!.delivered, lines.length);
    t.same(deadLetters, []);
    t.same([...v.delivered].sort(), [...ids].sort(), 'each event exactly once');
    // One request = one client: a batch never mixes identities.
    for (const r of server.requests) {
      const b = JSON.parse(r.body) as { client_id: string; events: unknown[] };
      t.ok(b.events.length <= 25);
    }
    const first = server.requests.map((r) => JSON.parse(r.body) as { client_id: string; user_id?: string; events: Array<{ name: string; params: Record<string, unknown> }> });
    const pv = first.flatMap((b) => b.events.map((e) => ({ ...e, client_id: b.client_id, user_id: b.user_id }))).find((e) => e.params.snowplow_event_id === ids[0]);
    t.match(pv, { name: 'page_view', client_id: column(lines[0]!, 'domain_userid'), user_id: column(lines[0]!, 'user_id'), params: { page_location: column(lines[0]!, 'page_url'), page_title: 'Product 0', language: 'en-GB' } });
    const names = new Set(first.flatMap((b) => b.events.map((e) => e.name)));
    t.ok(names.has('begin_checkout') && names.has('add_to_basket') && names.has('transaction_item'), `renamed and struct events: ${[...names].join(',')}`);
  });

  t.test('GA4: events GA4 would drop are dead-lettered as invalid, not sent', async (t) => {
    const server = await startServer(() => ({ status: 204, body: '' }));
    t.teardown(() => server.close());
    const old = generateLines(3, { now: Date.now() - 5 * 86400_000 });
    const reserved = generateLines(1, { override: { event_name: 'session_start' } });
    const noClient = generateLines(1, { override: { domain_userid: '', network_userid: '' } });
    const { summary, deadLetters } = await runForward(
      { destinations: [{ name: 'ga4', target: { type: 'ga4', base_url: server.url, measurement_id: 'G-1', api_secret_env: 'GA4_API_SECRET' } }] },
      [...old, ...reserved, ...noClient],
      { env: SECRET },
    );
    t.equal(server.requests.length, 0);
    t.equal(summary.destinations.ga4!.deadLettered, 5);
    t.same(deadLetters.map((d) => d.reason), ['invalid', 'invalid', 'invalid', 'invalid', 'invalid']);
    t.match(deadLetters.map((d) => d.error).join('\n'), /72 hours[\s\S]*reserved[\s\S]*no client_id/);
  });

  t.test('GA4 validation endpoint: validationMessages dead-letter the batch', async (t) => {
    const server = await startServer((r) =>
      r.url.pathname !== '/debug/mp/collect'
        ? { status: 404 }
        : (JSON.parse(r.body) as { events: Array<{ name: string }> }).events.some((e) => e.name === 'page_ping')
          ? { status: 200, body: JSON.stringify({ validationMessages: [{ fieldPath: 'events', description: 'bad', validationCode: 'VALUE_INVALID' }] }) }
          : { status: 200, body: '{"validationMessages":[]}' },
    );
    t.teardown(() => server.close());
    const input = generateLines(10).filter((_, i) => kindOf(i) === 'page_view' || kindOf(i) === 'page_ping');
    const { summary, deadLetters } = await runForward(
      { destinations: [{ name: 'ga4', target: { type: 'ga4', base_url: server.url, measurement_id: 'G-1', api_secret_env: 'GA4_API_SECRET', validation_endpoint: true }, batch: { max_events: 1 } }] },
      input,
      { env: SECRET },
    );
    t.equal(summary.destinations.ga4!.delivered, 2, 'page views validated');
    t.equal(deadLetters.length, 2, 'page pings refused by validation');
    t.match(deadLetters[0], { reason: 'rejected', status: 200, response_body: /VALUE_INVALID/ });
  });

  t.test('Amplitude HTTP V2', async (t) => {
    const v = vendorServer((r) => {
      const p: string[] = [];
      if (r.method !== 'POST' || r.url.pathname !== '/2/httpapi') p.push(`${r.method} ${r.url.pathname}`);
      if (!String(r.headers['content-type']).startsWith('application/json')) p.push('content-type');
      if (Buffer.byteLength(r.body) >= 1024 * 1024) p.push('body ≥ 1 MB');
      const b = JSON.parse(r.body) as { api_key?: string; events?: Array<Record<string, unknown>> };
      if (b.api_key !== SECRET.AMPLITUDE_API_KEY) p.push('api_key');
      if (!Array.isArray(b.events) || b.events.length === 0 || b.events.length >= 2000) p.push('events count');
      const got: string[] = [];
      for (const e of b.events ?? []) {
        if (typeof e.event_type !== 'string' || e.event_type === '') p.push('event_type');
        const okId = (x: unknown) => typeof x === 'string' && x.length >= 5;
        if (!okId(e.user_id) && !okId(e.device_id)) p.push('user_id/device_id');
        if (!Number.isInteger(e.time) || (e.time as number) < 1e12) p.push('time ms');
        if (typeof e.insert_id !== 'string') p.push('insert_id');
        got.push(e.insert_id as string);
      }
      return { problems: p, ids: got };
    }, { status: 200, body: '{"code":200,"events_ingested":1}' });
    const server = await startServer(v.reply);
    t.teardown(() => server.close());
    const { summary, deadLetters } = await runForward(
      {
        destinations: [
          {
            name: 'amp',
            target: { type: 'amplitude', base_url: server.url, api_key_env: 'AMPLITUDE_API_KEY' },
            transform: { type: 'mapping', fields: { 'user_properties.plan': 'contexts_com_acme_user_1.plan' } },
            batch: { max_events: 100 },
          },
        ],
      },
      lines,
      { env: SECRET },
    );
    t.same(v.problems, []);
    t.same([...v.delivered].sort(), [...ids].sort());
    t.equal(summary.destinations.amp!.delivered, lines.length);
    t.same(deadLetters, []);
    t.ok(server.requests.length >= Math.ceil(lines.length / 100) && server.requests.every((r) => (JSON.parse(r.body) as { events: unknown[] }).events.length <= 100), 'batch size respected');
    const all = server.requests.flatMap((r) => (JSON.parse(r.body) as { events: Array<Record<string, unknown>> }).events);
    const checkout = all.find((e) => e.insert_id === ids[2]);
    t.match(checkout, {
      event_type: 'checkout_started',
      user_id: column(lines[2]!, 'user_id'),
      device_id: column(lines[2]!, 'domain_userid'),
      time: Date.parse(column(lines[2]!, 'derived_tstamp').replace(' ', 'T') + 'Z'),
      country: 'US',
      city: 'Boston',
      event_properties: { total: 12, currency: 'EUR', items: 3, page_url: column(lines[2]!, 'page_url') },
      user_properties: { plan: 'pro' },
    });
  });

  t.test('Amplitude: a 400 naming bad events dead-letters those and resends the rest once', async (t) => {
    let first = true;
    const server = await startServer((r) => {
      if (first) {
        first = false;
        return { status: 400, body: JSON.stringify({ code: 400, error: 'Request missing required field', events_with_invalid_fields: { time: [1, 3] }, events_with_missing_fields: { event_type: [3] } }) };
      }
      return { status: 200, body: '{}' };
    });
    t.teardown(() => server.close());
    const input = generateLines(10);
    const { summary, deadLetters } = await runForward(
      { destinations: [{ name: 'amp', target: { type: 'amplitude', base_url: server.url, api_key_env: 'AMPLITUDE_API_KEY' } }] },
      input,
      { env: SECRET },
    );
    const accepted = server.accepted.flatMap((r) => (JSON.parse(r.body) as { events: Array<{ insert_id: string }> }).events.map((e) => e.insert_id));
    const inputIds = input.map((l) => column(l, 'event_id'));
    t.same(accepted.sort(), inputIds.filter((_, i) => i !== 1 && i !== 3).sort(), 'the rest delivered exactly once');
    t.same(deadLetters.map((d) => column(d.event as string, 'event_id')).sort(), [inputIds[1], inputIds[3]].sort());
    t.match(deadLetters[0], { destination: 'amp', target: 'amplitude', reason: 'rejected', status: 400, attempts: 1 });
    t.match(String(deadLetters[0]!.response_body), /events_with_invalid_fields/);
    t.equal(summary.destinations.amp!.delivered + summary.destinations.amp!.deadLettered, 10);
  });

  t.test('Mixpanel import', async (t) => {
    const auth = `Basic ${Buffer.from(`${SECRET.MIXPANEL_PROJECT_TOKEN}:`).toString('base64')}`;
    const v = vendorServer((r) => {
      const p: string[] = [];
      if (r.method !== 'POST' || r.url.pathname !== '/import') p.push(`${r.method} ${r.url.pathname}`);
      if (r.url.searchParams.get('strict') !== '1') p.push('strict=1');
      if (r.headers.authorization !== auth) p.push('authorization');
      if (!String(r.headers['content-type']).startsWith('application/json')) p.push('content-type');
      if (Buffer.byteLength(r.body) > 2 * 1024 * 1024) p.push('body > 2 MB');
      const b = JSON.parse(r.body) as Array<{ event?: unknown; properties?: Record<string, unknown> }>;
      if (!Array.isArray(b) || b.length === 0 || b.length > 2000) p.push('array');
      const got: string[] = [];
      for (const e of b) {
        const pr = e.properties ?? {};
        if (typeof e.event !== 'string') p.push('event');
        if (typeof pr.time !== 'number' || (pr.time as number) < Date.UTC(1971, 0, 1) || (pr.time as number) > Date.now() + 3600_000) p.push('time');
        if (typeof pr.distinct_id !== 'string') p.push('distinct_id');
        if (typeof pr.$insert_id !== 'string' || !/^[A-Za-z0-9-]{1,36}$/.test(pr.$insert_id)) p.push('$insert_id');
        got.push(pr.$insert_id as string);
      }
      return { problems: p, ids: got };
    }, { status: 200, body: '{"code":200,"num_records_imported":1,"status":"OK"}' });
    const server = await startServer(v.reply);
    t.teardown(() => server.close());
    const { summary } = await runForward(
      { destinations: [{ name: 'mp', filter: { event_names: ['page_view', 'checkout_started'] }, target: { type: 'mixpanel', base_url: server.url, project_token_env: 'MIXPANEL_PROJECT_TOKEN' } }] },
      lines,
      { env: SECRET },
    );
    const want = lines.filter((l) => ['page_view', 'checkout_started'].includes(column(l, 'event_name'))).map((l) => column(l, 'event_id'));
    t.same(v.problems, []);
    t.same([...v.delivered].sort(), want.sort(), 'the filtered events, each once');
    t.equal(summary.destinations.mp!.filtered, lines.length - want.length);
    const ev = server.requests.flatMap((r) => JSON.parse(r.body) as Array<{ event: string; properties: Record<string, unknown> }>).find((e) => e.properties.$insert_id === ids[0]);
    t.match(ev, { event: 'page_view', properties: { distinct_id: column(lines[0]!, 'user_id'), $device_id: column(lines[0]!, 'domain_userid'), $current_url: column(lines[0]!, 'page_url'), mp_country_code: 'GB', mp_lib: 'furrow' } });
    const anon = server.requests.flatMap((r) => JSON.parse(r.body) as Array<{ properties: Record<string, unknown> }>).find((e) => e.properties.$insert_id === ids[5]);
    t.equal(anon?.properties.distinct_id, column(lines[5]!, 'domain_userid'), 'no user_id: distinct_id falls back to domain_userid');
  });

  t.test('Mixpanel: strict 400 with failed_records dead-letters those; the rest count as imported', async (t) => {
    let n = 0;
    const server = await startServer((r) => {
      if (++n === 1) {
        const b = JSON.parse(r.body) as Array<{ properties: { $insert_id: string } }>;
        return { status: 400, body: JSON.stringify({ code: 400, error: 'some data points in the request failed validation', num_records_imported: b.length - 1, failed_records: [{ index: 2, insert_id: b[2]!.properties.$insert_id, field: 'properties.time', message: "'properties.time' is invalid" }] }) };
      }
      return { status: 200, body: '{"code":200}' };
    });
    t.teardown(() => server.close());
    const input = generateLines(6);
    const { summary, deadLetters } = await runForward({ destinations: [{ name: 'mp', target: { type: 'mixpanel', base_url: server.url, project_token_env: 'MIXPANEL_PROJECT_TOKEN' } }] }, input, { env: SECRET });
    t.equal(server.requests.length, 1, 'no resend: the others were imported');
    t.equal(summary.destinations.mp!.delivered, 5);
    t.equal(deadLetters.length, 1);
    t.match(deadLetters[0], { reason: 'rejected', status: 400, error: /properties\.time/ });
    t.equal(column(deadLetters[0]!.event as string, 'event_id'), column(input[2]!, 'event_id'));
  });

  t.test('Braze /users/track', async (t) => {
    const v = vendorServer((r) => {
      const p: string[] = [];
      if (r.method !== 'POST' || r.url.pathname !== '/users/track') p.push(`${r.method} ${r.url.pathname}`);
      if (r.headers.authorization !== `Bearer ${SECRET.BRAZE_API_KEY}`) p.push('authorization');
      if (!String(r.headers['content-type']).startsWith('application/json')) p.push('content-type');
      const b = JSON.parse(r.body) as { events?: Array<Record<string, unknown>>; purchases?: Array<Record<string, unknown>>; attributes?: unknown[] };
      for (const k of ['events', 'purchases', 'attributes'] as const) if ((b[k]?.length ?? 0) > 75) p.push(`${k} > 75`);
      const got: string[] = [];
      for (const o of [...(b.events ?? []), ...(b.purchases ?? [])]) {
        const idents = ['external_id', 'user_alias', 'braze_id', 'email', 'phone'].filter((k) => o[k] !== undefined);
        if (idents.length !== 1) p.push(`identity ${idents.join(',')}`);
        if (o.user_alias !== undefined) {
          const a = o.user_alias as Record<string, unknown>;
          if (typeof a.alias_name !== 'string' || typeof a.alias_label !== 'string') p.push('user_alias');
        }
        if (typeof o.time !== 'string' || !ISO.test(o.time)) p.push(`time ${String(o.time)}`);
        got.push((o.properties as Record<string, unknown>).snowplow_event_id as string);
      }
      for (const e of b.events ?? []) if (typeof e.name !== 'string') p.push('event name');
      for (const pu of b.purchases ?? []) {
        if (typeof pu.product_id !== 'string') p.push('product_id');
        if (typeof pu.currency !== 'string' || !/^[A-Z]{3}$/.test(pu.currency)) p.push('currency');
        if (typeof pu.price !== 'number') p.push('price');
        if (!Number.isInteger(pu.quantity) || (pu.quantity as number) < 1 || (pu.quantity as number) > 100) p.push('quantity');
      }
      return { problems: p, ids: got };
    }, { status: 201, body: '{"message":"success"}' });
    const server = await startServer(v.reply);
    t.teardown(() => server.close());
    const { summary, deadLetters } = await runForward(
      {
        destinations: [
          {
            name: 'braze',
            filter: { app_ids: ['shop'] },
            target: { type: 'braze', base_url: server.url, api_key_env: 'BRAZE_API_KEY', app_id: 'braze-app-1' },
            transform: { type: 'js', script: 'function transform(e, p) { if (p.properties) p.properties.country = e.geo_country; return p; }' },
          },
        ],
      },
      generateLines(N),
      { env: SECRET },
    );
    const gen = generateLines(N);
    const want = gen.filter((l) => column(l, 'app_id') === 'shop').map((l) => column(l, 'event_id'));
    t.same(v.problems, []);
    t.same(deadLetters, []);
    t.same([...v.delivered].sort(), want.sort());
    t.equal(summary.destinations.braze!.delivered, want.length);
    const bodies = server.requests.map((r) => JSON.parse(r.body) as { events?: Array<Record<string, unknown>>; purchases?: Array<Record<string, unknown>> });
    t.ok(bodies.every((b) => (b.events === undefined) !== (b.purchases === undefined)), 'events and purchases go in separate requests');
    const purchases = bodies.flatMap((b) => b.purchases ?? []);
    t.equal(purchases.length, gen.filter((l, i) => kindOf(i) === 'transaction_item' && column(l, 'app_id') === 'shop').length);
    t.match(purchases[0], { product_id: /^sku-/, currency: 'EUR', price: 19.99, app_id: 'braze-app-1', properties: { order_id: /^order-/ } });
    const events = bodies.flatMap((b) => b.events ?? []);
    const withUser = events.find((e) => e.external_id !== undefined)!;
    const anon = events.find((e) => e.user_alias !== undefined)!;
    t.match(withUser, { external_id: /^user-/, properties: { country: /^[A-Z]{2}$/ } });
    t.match(anon, { user_alias: { alias_name: /^duid-/, alias_label: 'snowplow_domain_userid' } });
  });

  t.test('Braze: 201 with errors dead-letters the named objects only', async (t) => {
    let n = 0;
    const server = await startServer(() =>
      ++n === 1 ? { status: 201, body: JSON.stringify({ message: 'success', errors: [{ type: "'name' is required", input_array: 'events', index: 1 }] }) } : { status: 201, body: '{"message":"success"}' },
    );
    t.teardown(() => server.close());
    const input = generateLines(5).filter((_, i) => kindOf(i) !== 'transaction_item');
    const { summary, deadLetters } = await runForward({ destinations: [{ name: 'braze', target: { type: 'braze', base_url: server.url, api_key_env: 'BRAZE_API_KEY' } }] }, input, { env: SECRET });
    t.equal(server.requests.length, 1);
    t.equal(summary.destinations.braze!.delivered, input.length - 1);
    t.match(deadLetters, [{ reason: 'rejected', status: 201, error: /'name' is required/ }]);
  });

  t.test('generic HTTP: template body, literal and secret headers, basic auth, ndjson', async (t) => {
    const server = await startServer();
    t.teardown(() => server.close());
    const input = generateLines(30);
    await runForward(
      {
        destinations: [
          {
            name: 'hook',
            filter: { event_names: ['page_view'] },
            target: {
              type: 'http',
              url: `${server.url}/in?src=furrow`,
              method: 'PUT',
              headers: { 'X-Source': 'furrow' },
              header_secrets: { 'X-Api-Key': 'AMPLITUDE_API_KEY' },
              auth: { type: 'basic', username: 'ops', password_env: 'HOOK_PASSWORD' },
              body_format: 'template',
              body_template: '{"count":{{count}},"batch":{{events}}}',
            },
            transform: { type: 'mapping', mode: 'replace', fields: { id: 'event_id', plan: 'contexts_com_acme_user_1.plan', k: { value: 1 } } },
            batch: { max_events: 3, flush_interval: '10 millis' },
          },
          { name: 'nd', target: { type: 'http', url: `${server.url}/nd`, body_format: 'ndjson' } },
        ],
      },
      input,
      { env: SECRET },
    );
    const hook = server.requests.filter((r) => r.url.pathname === '/in');
    t.ok(hook.length >= 2);
    for (const r of hook) {
      t.equal(r.method, 'PUT');
      t.equal(r.url.search, '?src=furrow');
      t.equal(r.headers['x-source'], 'furrow');
      t.equal(r.headers['x-api-key'], SECRET.AMPLITUDE_API_KEY);
      t.equal(r.headers.authorization, `Basic ${Buffer.from(`ops:${SECRET.HOOK_PASSWORD}`).toString('base64')}`);
      const b = JSON.parse(r.body) as { count: number; batch: Array<Record<string, unknown>> };
      t.equal(b.count, b.batch.length);
      t.ok(b.count <= 3);
      for (const e of b.batch) t.same(Object.keys(e).sort(), ['id', 'k', 'plan']);
    }
    const sent = hook.flatMap((r) => (JSON.parse(r.body) as { batch: Array<{ id: string }> }).batch.map((e) => e.id));
    t.same(sent.sort(), input.filter((_, i) => kindOf(i) === 'page_view').map((l) => column(l, 'event_id')).sort());
    const nd = server.requests.filter((r) => r.url.pathname === '/nd');
    t.equal(nd[0]!.headers['content-type'], 'application/x-ndjson');
    const rows = nd.flatMap((r) => r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
    t.equal(rows.length, 30, 'no filter: every event, as its JSON view');
    t.match(rows[2], { event_id: column(input[2]!, 'event_id'), unstruct_event_com_acme_checkout_started_1: { total: 12 }, contexts_com_acme_user_1: [{ plan: 'pro' }] });
  });
}
