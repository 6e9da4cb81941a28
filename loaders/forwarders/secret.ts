/**
 * A secret read from an environment variable named in the config. It renders as `[redacted]` however it is
 * printed (String(), template literals, JSON.stringify — which is what pino uses — and util.inspect), so a
 * config object or an error that holds one can be logged safely. Only `reveal()` gives the value, and only
 * the code that builds a request calls it.
 */
import { inspect } from 'node:util';

export class Secret {
  readonly #value: string;
  /** The environment variable it came from (safe to log). */
  readonly envName: string;

  constructor(envName: string, value: string) {
    this.envName = envName;
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return `[redacted:${this.envName}]`;
  }

  [inspect.custom](): string {
    return `Secret(${this.envName})`;
  }
}

/**
 * Removes every secret value from a text (error messages, response bodies, URLs) before it is logged or
 * written to the dead letter: vendors sometimes echo the key back, and GA4 carries api_secret in the URL.
 */
export function makeRedactor(secrets: readonly Secret[]): (text: string) => string {
  const values = secrets.map((s) => s.reveal()).filter((v) => v.length >= 4);
  if (values.length === 0) return (t) => t;
  const encoded = values.flatMap((v) => [v, encodeURIComponent(v), Buffer.from(v).toString('base64')]);
  return (text) => {
    let out = text;
    for (const v of encoded) if (out.includes(v)) out = out.split(v).join('[redacted]');
    return out;
  };
}
