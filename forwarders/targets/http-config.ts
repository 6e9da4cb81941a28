/** `target { type = http, ... }`: any HTTP endpoint (webhooks, internal APIs). Implementation: http.ts. */
import { FurrowError } from '../../common/errors.js';
import { t } from '../../config/schema.js';
import type { Secret } from '../../common/secret.js';
import { targetConfig } from './target-config.js';

export type HttpAuth = null | { readonly type: 'basic'; readonly username: string; readonly password: Secret } | { readonly type: 'bearer'; readonly token: Secret };

export interface HttpTargetConfig {
  readonly type: 'http';
  readonly url: string;
  readonly method: 'POST' | 'PUT' | 'PATCH';
  readonly headers: Readonly<Record<string, string | Secret>>;
  readonly auth: HttpAuth;
  /** json_array: `[e1,e2]`; ndjson: one per line; single: one event per request; template: `body_template` with `{{events}}`. */
  readonly bodyFormat: 'json_array' | 'ndjson' | 'single' | 'template';
  readonly bodyTemplate: string | null;
  readonly contentType: string;
}

const schema = t.object({
  url: t.httpUrl(),
  method: t.enum(['POST', 'PUT', 'PATCH'], { default: 'POST' }),
  headers: t.record(t.string({ minLength: 0 }), { default: {} }),
  /** Header name → environment variable holding its value. */
  header_secrets: t.record(t.envName(), { default: {} }),
  auth: t.optional(
    t.union('type', {
      basic: t.object({ username: t.string(), password_env: t.envName() }),
      bearer: t.object({ token_env: t.envName() }),
    }),
  ),
  body_format: t.enum(['json_array', 'ndjson', 'single', 'template'], { default: 'json_array' }),
  body_template: t.optional(t.string()),
  content_type: t.optional(t.string()),
});

export const httpConfig = targetConfig({
  schema,
  limits: { maxEvents: 10_000, maxBytes: 64 * 1024 * 1024 },
  defaultBatch: (c: HttpTargetConfig) => ({ maxEvents: c.bodyFormat === 'single' ? 1 : 50, maxBytes: 1024 * 1024 }),
  build(b, cx): HttpTargetConfig {
    const headers: Record<string, string | Secret> = { ...b.headers };
    for (const [h, env] of Object.entries(b.header_secrets)) headers[h] = cx.secret(`header_secrets.${h}`, env);
    const auth: HttpAuth =
      b.auth === undefined
        ? null
        : b.auth.type === 'basic'
          ? { type: 'basic', username: b.auth.username, password: cx.secret('auth.password_env', b.auth.password_env) }
          : { type: 'bearer', token: cx.secret('auth.token_env', b.auth.token_env) };
    const bodyTemplate = b.body_template ?? null;
    if (b.body_format === 'template' && (bodyTemplate === null || !bodyTemplate.includes('{{events}}'))) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `${cx.path}.body_template: body_format "template" needs a body_template containing {{events}}`);
    }
    if (b.body_format !== 'template' && bodyTemplate !== null) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `${cx.path}.body_template: only used with body_format = "template"`);
    }
    return {
      type: 'http',
      url: b.url,
      method: b.method,
      headers,
      auth,
      bodyFormat: b.body_format,
      bodyTemplate,
      contentType: b.content_type ?? (b.body_format === 'ndjson' ? 'application/x-ndjson' : 'application/json'),
    };
  },
});
