/**
 * The generic HTTP target (Snowbridge's HTTP target, RudderStack's webhook).
 *
 *   {method} {url}
 *   headers (literal and from secrets), auth (basic / bearer from secrets), content-type
 *   body: json_array  [item, item, …]
 *         ndjson      item\nitem\n…
 *         single      item                    (max_events = 1)
 *         template    body_template with {{events}} → the JSON array, {{count}} → the number of events
 *
 * An item is the event's JSON view (the Snowplow Analytics SDK shape, forward-event.ts) unless the
 * destination's transformation (mapping or JS) made something else of it. Anything JSON-able is accepted.
 */
import type { HttpTargetConfig } from '../config.js';
import type { ForwardEvent } from '../forward-event.js';
import { HttpClient, classifyHttp } from '../http-client.js';
import { basicCredentials } from '../../common/secret.js';
import { jsonItem, type ForwardTarget, type PreparedItem, type SendOutcome } from '../target.js';

export class HttpTarget implements ForwardTarget {
  readonly type = 'http';
  readonly maxEvents = 10_000;
  readonly maxBytes = 64 * 1024 * 1024;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly templateParts: readonly string[] | null;

  constructor(
    private readonly cfg: HttpTargetConfig,
    private readonly http: HttpClient,
  ) {
    this.url = new URL(cfg.url);
    const h: Record<string, string> = { 'content-type': cfg.contentType };
    for (const [k, v] of Object.entries(cfg.headers)) h[k.toLowerCase()] = typeof v === 'string' ? v : v.reveal();
    if (cfg.auth?.type === 'basic') h.authorization = `Basic ${basicCredentials(cfg.auth.username, cfg.auth.password)}`;
    if (cfg.auth?.type === 'bearer') h.authorization = `Bearer ${cfg.auth.token.reveal()}`;
    this.headers = h;
    // Split once: the per-request work is a join.
    this.templateParts = cfg.bodyFormat === 'template' ? cfg.bodyTemplate!.split(/(\{\{events\}\}|\{\{count\}\})/) : null;
  }

  build(ev: ForwardEvent): Record<string, unknown> {
    // The shared JSON view itself (no copy on the plain path): a mapping copies before it writes, and the JS
    // transformation hands operator code a shallow copy of it as the payload.
    return ev.toJson();
  }

  direct(ev: ForwardEvent): PreparedItem {
    const body = ev.jsonText();
    return { body, bytes: Buffer.byteLength(body), group: '', key: '' };
  }

  finalize(payload: unknown): PreparedItem | string {
    if (payload === undefined) return 'transformation returned undefined';
    return jsonItem(payload);
  }

  body(items: readonly PreparedItem[]): string {
    switch (this.cfg.bodyFormat) {
      case 'single':
        return items[0]!.body;
      case 'ndjson': {
        let s = '';
        for (let i = 0; i < items.length; i++) s += items[i]!.body + '\n';
        return s;
      }
      case 'json_array':
      case 'template': {
        let arr = '[';
        for (let i = 0; i < items.length; i++) arr += (i === 0 ? '' : ',') + items[i]!.body;
        arr += ']';
        if (this.templateParts === null) return arr;
        let s = '';
        for (const p of this.templateParts) s += p === '{{events}}' ? arr : p === '{{count}}' ? String(items.length) : p;
        return s;
      }
    }
  }

  async send(items: readonly PreparedItem[], timeoutMs: number): Promise<SendOutcome> {
    const r = await this.http.request(this.url, this.cfg.method, this.headers, this.body(items), timeoutMs);
    return classifyHttp(r);
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
