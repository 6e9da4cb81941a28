/**
 * Destinations that echo the request back in their error body (headers, URL, body) must not get a secret into the
 * dead letter in any form furrow itself produced: `Authorization: Basic base64(user:pass)`, Mixpanel's
 * `Basic base64(token:)`, GA4's api_secret form-urlencoded in the URL, Amplitude's api_key JSON-escaped in the body,
 * a secret cut in half by the 8 KiB response-body cap. The check decodes what it finds (URL-decoding, JSON
 * strings, base64 at every alignment) rather than listing encodings, so a form nobody thought of fails it too.
 * Real destinations on 127.0.0.1, the real forwarder and file dead letter.
 */
import t from 'tap';
import { MAX_RESPONSE_BODY } from '../../forwarders/http-client.js';
import { runForward, startServer, type RecordedRequest } from './helpers.js';
import { generateLines } from './tsv-generator.js';

const SECRETS = {
  HOOK_PASSWORD: 'hook/pass+word=~42!',
  MP_TOKEN: 'tok3n-mixpanel-abcdef012345678ab', // 32 characters: base64(token) is not a prefix of base64(token:)
  MP_SECRET: 'mp service secret (x)*',
  GA4_SECRET: "ga4~api secret/with'odd(chars)!",
  AMP_KEY: 'amp"key\\with/quotes',
  TAIL_TOKEN: 'tail-bearer-token-9f8e7d6c5b4a',
};

/** Everything the server saw, as text: the request line, every header, the body. */
function echo(r: RecordedRequest): string {
  return `${r.method} ${r.url.pathname}${r.url.search}\n${Object.entries(r.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}\n\n${r.body}`;
}

/** Every string inside a text: itself, and if it is JSON, every string value in it (recursively). */
function strings(text: string): string[] {
  const out = [text];
  try {
    const stack: unknown[] = [JSON.parse(text)];
    while (stack.length > 0) {
      const v = stack.pop();
      if (typeof v === 'string') out.push(v, ...(v !== text ? strings(v) : []));
      else if (v !== null && typeof v === 'object') stack.push(...Object.values(v));
    }
  } catch {
    // not JSON
  }
  return out;
}

/**
 * What a reader could decode out of a text: URL-decoding, JSON string escapes, and base64 (both alphabets) of
 * every run at every alignment.
 */
function decodings(text: string): string[] {
  const out = [
    text,
    text.replace(/\+/g, ' ').replace(/%[0-9a-fA-F]{2}/g, (m) => String.fromCharCode(parseInt(m.slice(1), 16))),
    text.replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\(["\\/])/g, '$1'),
  ];
  for (const run of text.match(/[A-Za-z0-9+/_-]{6,}={0,2}/g) ?? []) {
    for (let skip = 0; skip < 4; skip++) {
      const s = run.slice(skip).replace(/-/g, '+').replace(/_/g, '/');
      out.push(Buffer.from(s, 'base64').toString('latin1'));
    }
  }
  return out;
}

function leaks(letters: ReadonlyArray<Record<string, unknown>>): string[] {
  const found: string[] = [];
  const fields = letters.flatMap((l) => Object.values(l).filter((v): v is string => typeof v === 'string'));
  for (const s of fields.flatMap(strings)) {
    for (const d of decodings(s)) {
      for (const [name, v] of Object.entries(SECRETS)) {
        if (d.includes(v)) found.push(`${name} in ${JSON.stringify(s.slice(0, 120))}`);
        // A copy cut off at the end (8+ leading characters).
        for (let n = v.length - 1; n >= 8; n--) if (d.endsWith(v.slice(0, n))) found.push(`${name} (first ${n} chars) at the end of ${JSON.stringify(s.slice(-60))}`);
      }
    }
  }
  return [...new Set(found)];
}

t.test('a destination echoing the request: no encoding of a secret reaches the dead letter', async (t) => {
  const server = await startServer((r) => {
    if (r.url.pathname === '/tail') {
      // The echo is cut by the 8 KiB response-body cap in the middle of the token.
      const auth = String(r.headers.authorization);
      return { status: 400, body: 'x'.repeat(MAX_RESPONSE_BODY - auth.length + 12) + auth };
    }
    if (r.url.pathname.startsWith('/json')) return { status: 400, body: JSON.stringify({ error: 'bad request', echo: echo(r) }).replace(/\//g, '\\/') };
    return { status: 400, body: echo(r) };
  });
  t.teardown(() => server.close());
  const destinations = [
    { name: 'hook', target: { type: 'http', url: `${server.url}/hook`, auth: { type: 'basic', username: 'svc-usr', password_env: 'HOOK_PASSWORD' } } },
    { name: 'hook-json', target: { type: 'http', url: `${server.url}/json/hook`, auth: { type: 'basic', username: 'svc-usr', password_env: 'HOOK_PASSWORD' } } },
    { name: 'mp', target: { type: 'mixpanel', base_url: server.url, project_token_env: 'MP_TOKEN' } },
    { name: 'mp-json', target: { type: 'mixpanel', base_url: `${server.url}/json`, project_token_env: 'MP_TOKEN' } },
    { name: 'mp-sa', target: { type: 'mixpanel', base_url: server.url, service_account: { username: 'sa.user', secret_env: 'MP_SECRET' }, project_id: '42' } },
    { name: 'ga4', target: { type: 'ga4', base_url: server.url, measurement_id: 'G-TEST1', api_secret_env: 'GA4_SECRET' } },
    { name: 'ga4-json', target: { type: 'ga4', base_url: `${server.url}/json`, measurement_id: 'G-TEST1', api_secret_env: 'GA4_SECRET' } },
    { name: 'amp', target: { type: 'amplitude', base_url: server.url, api_key_env: 'AMP_KEY' } },
    { name: 'tail', target: { type: 'http', url: `${server.url}/tail`, auth: { type: 'bearer', token_env: 'TAIL_TOKEN' } } },
  ];
  const { deadLetters, summary } = await runForward({ destinations }, generateLines(12), { env: SECRETS });
  for (const d of destinations) t.ok(summary.destinations[d.name]!.deadLettered > 0, `${d.name}: its events were dead-lettered`);
  // Each secret really was sent, so each echo really held it (in the encoded form under test).
  const sent = server.requests.map(echo).join('\n');
  t.ok(sent.includes(Buffer.from(`svc-usr:${SECRETS.HOOK_PASSWORD}`).toString('base64')));
  t.ok(sent.includes(Buffer.from(`${SECRETS.MP_TOKEN}:`).toString('base64')));
  t.ok(sent.includes(new URLSearchParams({ api_secret: SECRETS.GA4_SECRET }).toString()));
  t.ok(sent.includes(JSON.stringify(SECRETS.AMP_KEY)));
  const text = deadLetters.map((l) => JSON.stringify(l)).join('\n');
  t.same(leaks(deadLetters), [], 'no secret can be decoded out of the dead letter');
  t.match(text, /\[redacted\]/, 'the echoes are there, redacted');
  t.ok(deadLetters.some((l) => typeof l.response_body === 'string' &&  /Basic \[redacted\]/.test(l.response_body as string)), 'Basic credentials redacted whole');
});
