/**
 * What every conformance suite shares: where Snowplow's material is (../shared beside the project root), the
 * outcome of one vector (pass / fail / unsupported, or known when listed in known-differences.json), the tallies
 * per category and the summary printed at the end.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(join(import.meta.dirname, '..'));
export const VECTORS = resolve(ROOT, '..', 'shared', 'conformance', 'enrich');
export const IGLU_CENTRAL = resolve(ROOT, '..', 'shared', 'iglu-central');
export const PROCESSOR = Object.freeze({ artifact: 'furrow-enrich-conformance', version: '0.0.0' });
const KNOWN: Record<string, string> = JSON.parse(readFileSync(join(import.meta.dirname, 'known-differences.json'), 'utf8')).vectors;

export type Outcome = { status: 'pass' } | { status: 'fail'; detail: string } | { status: 'unsupported'; detail: string };
export const PASS: Outcome = { status: 'pass' };
export const fail = (detail: string): Outcome => ({ status: 'fail', detail });
export const unsupported = (detail: string): Outcome => ({ status: 'unsupported', detail });

interface Tally { pass: number; fail: number; unsupported: number; known: number }
const tallies = new Map<string, Tally>();
const failures: string[] = [];
const unsupportedReasons = new Map<string, number>();
const verbose = process.argv.includes('--verbose');

export function record(category: string, id: string, o: Outcome): void {
  const t = tallies.get(category) ?? { pass: 0, fail: 0, unsupported: 0, known: 0 };
  tallies.set(category, t);
  if (o.status === 'fail' && KNOWN[id] !== undefined) {
    t.known++;
    if (verbose) console.log(`known  ${id}: ${o.detail}`);
    return;
  }
  if (o.status === 'pass' && KNOWN[id] !== undefined) console.log(`note   ${id} is listed in known-differences.json but now passes`);
  t[o.status]++;
  if (o.status === 'fail') failures.push(`FAIL ${id}: ${o.detail}`);
  if (o.status === 'unsupported') unsupportedReasons.set(o.detail, (unsupportedReasons.get(o.detail) ?? 0) + 1);
  if (verbose && o.status !== 'pass') console.log(`${o.status.padEnd(6)} ${id}: ${o.detail}`);
}

export async function guarded(category: string, id: string, f: () => Outcome | Promise<Outcome>): Promise<void> {
  try {
    record(category, id, await f());
  } catch (e) {
    record(category, id, fail(`threw ${(e as Error).stack ?? String(e)}`));
  }
}

export const readJson = (p: string): any => JSON.parse(readFileSync(p, 'utf8'));
export const show = (v: unknown): string => JSON.stringify(v)?.slice(0, 300) ?? 'undefined';

/** JSON equality where object key order is irrelevant and array order matters. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => jsonEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b as object, k) && jsonEqual((a as any)[k], (b as any)[k]));
}

/** Prints the tallies per category, the unsupported reasons and the failures; returns the totals. */
export function printSummary(started: number): { pass: number; failed: number } {
  console.log('category          pass  fail  unsupported  known');
  let pass = 0;
  let failed = 0;
  for (const [cat, t] of tallies) {
    console.log(`${cat.padEnd(16)} ${String(t.pass).padStart(5)} ${String(t.fail).padStart(5)} ${String(t.unsupported).padStart(12)} ${String(t.known).padStart(6)}`);
    pass += t.pass;
    failed += t.fail;
  }
  if (unsupportedReasons.size > 0) {
    console.log('\nnot yet supported:');
    for (const [reason, n] of unsupportedReasons) console.log(`  ${String(n).padStart(3)} × ${reason}`);
  }
  if (failures.length > 0) console.log('\n' + failures.join('\n'));
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s; known differences: test-conformance/known-differences.json)`);
  console.log(`${pass} passed, ${failed} failed`);
  return { pass, failed };
}
