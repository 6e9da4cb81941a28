/**
 * A secret read from an environment variable named in the config. It renders as `[redacted]` however it is
 * printed (String(), template literals, JSON.stringify — which is what pino uses — and util.inspect), so a
 * config object or an error that holds one can be logged safely. Only `reveal()` gives the value, and only
 * the code that builds a request calls it.
 *
 * What the redactor removes from texts that reach logs and the dead letter (destinations echo requests back:
 * headers, URLs, bodies), for every secret value v:
 *
 *   v itself                         Bearer tokens, custom headers, raw echoes
 *   v as furrow encodes it           encodeURIComponent / form-urlencoded (GA4 api_secret in the URL, %2f and %2F),
 *                                    JSON string escaping (Amplitude api_key in the body)
 *   every text derived from v        registered by the code that builds it: `Basic base64(user:v)`,
 *                                    Mixpanel's `Basic base64(token:)` (see basicCredentials)
 *   v inside any base64              the characters that depend on v alone, at each of the 3 byte alignments, in
 *                                    the standard and URL-safe alphabets: base64 of a text holding v, whatever
 *                                    surrounds it
 *   a truncated tail                 a text (8 KiB response-body cap) ending in the first 6+ characters of a form
 *
 * and each form also with `/` escaped as `\/` (JSON printers that escape the solidus).
 */
import { inspect } from 'node:util';

export class Secret {
  readonly #value: string;
  readonly #derived: string[] = [];
  /** The environment variable it came from (safe to log). */
  readonly envName: string;

  constructor(envName: string, value: string) {
    this.envName = envName;
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /**
   * Records a text furrow builds from this secret to send it (an encoded credential), so the redactor removes
   * that exact text too; returns it. Call it wherever a request carries the secret in a form other than itself.
   */
  derive(text: string): string {
    if (!this.#derived.includes(text)) {
      this.#derived.push(text);
      derivedVersion++;
    }
    return text;
  }

  /** The texts registered with derive(). */
  derivedForms(): readonly string[] {
    return this.#derived;
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

/** Bumped by every new derived form, so redactors built earlier pick it up. */
let derivedVersion = 0;

/**
 * HTTP Basic credentials `base64(user:password)`, registered for redaction with whichever parts are secrets
 * (Mixpanel sends its project token as the user name with an empty password).
 */
export function basicCredentials(user: string | Secret, password: string | Secret): string {
  const text = (s: string | Secret) => (typeof s === 'string' ? s : s.reveal());
  const b64 = Buffer.from(`${text(user)}:${text(password)}`, 'utf8').toString('base64');
  for (const s of [user, password]) if (s instanceof Secret) s.derive(b64);
  return b64;
}

/** Shortest secret redacted (shorter values would redact ordinary text); shortest base64 window kept. */
const MIN_SECRET = 4;
const MIN_WINDOW = 8;
/** A text ending in at least this many leading characters of a form is taken to be a cut-off copy of it. */
const MIN_TAIL = 6;

/**
 * The base64 characters that depend only on the bytes of `bytes`, for each alignment of `bytes` in a longer
 * encoded text (its offset mod 3): the characters mixing in neighbouring bytes are cut off both ends.
 */
function base64Windows(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    // k filler bytes before: output characters 0 .. lead-1 involve the filler.
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64').replace(/=+$/, '');
    const lead = k === 0 ? 0 : k === 1 ? 2 : 3;
    // The last (len*8) bits: a character is pure only if all 6 of its bits come from `bytes`.
    const totalBits = (k + bytes.length) * 8;
    const pureChars = Math.floor(totalBits / 6);
    const w = enc.slice(lead, pureChars);
    if (w.length >= MIN_WINDOW) out.push(w, w.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** form-urlencoded (URLSearchParams) spelling of a value. */
function formEncoded(v: string): string {
  return new URLSearchParams({ v }).toString().slice(2);
}

function lowerHex(s: string): string {
  return s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
}

/** Every spelling of one secret that may reach a log or a dead letter (see the header). */
export function secretForms(secret: Secret): string[] {
  const v = secret.reveal();
  if (v.length < MIN_SECRET) return [];
  const base = [v, ...secret.derivedForms(), ...base64Windows(Buffer.from(v, 'utf8'))];
  const forms = new Set<string>();
  for (const f of base) {
    for (const g of [f, encodeURIComponent(f), formEncoded(f), JSON.stringify(f).slice(1, -1)]) {
      forms.add(g);
      forms.add(lowerHex(g));
      forms.add(g.replace(/\//g, '\\/'));
    }
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET);
}

/**
 * Removes every form of every secret from a text (error messages, response bodies, URLs) before it is logged
 * or written to the dead letter. Forms are recomputed when a target registers a new derived one (at start-up).
 */
export function makeRedactor(secrets: readonly Secret[]): (text: string) => string {
  if (secrets.length === 0) return (t) => t;
  let version = -1;
  let forms: string[] = [];
  const refresh = (): void => {
    if (version === derivedVersion) return;
    version = derivedVersion;
    // Longest first: a form that contains another is replaced whole.
    forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  };
  // The letters of one failed batch share their response body and error: remember the last few answers.
  const recent = new Map<string, string>();
  return (text) => {
    refresh();
    if (forms.length === 0) return text;
    const hit = recent.get(text);
    if (hit !== undefined) return hit;
    const out = redact(text);
    if (recent.size >= 8) recent.delete(recent.keys().next().value!);
    recent.set(text, out);
    return out;
  };

  function redact(text: string): string {
    let out = text;
    for (const f of forms) if (out.includes(f)) out = out.split(f).join('[redacted]');
    // A copy cut off by a length cap (the response body keeps 8 KiB): the start of a form at the very end.
    for (const f of forms) {
      for (let n = Math.min(f.length - 1, out.length); n >= MIN_TAIL; n--) {
        if (out.endsWith(f.slice(0, n))) {
          out = out.slice(0, out.length - n) + '[redacted]';
          break;
        }
      }
    }
    return out;
  }
}
