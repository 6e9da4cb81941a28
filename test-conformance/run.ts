/**
 * `npm run conformance`: Snowplow's own test material, kept outside the repository in ../shared (beside the project
 * root), run against furrow. Without ../shared/conformance it prints one line saying so and exits 0 ("skipped"):
 * `npm test` needs nothing outside the repository; this suite is the extra check CI runs with ../shared present.
 *
 * 1. every vector in ../shared/conformance/enrich (unit/, blackbox/, legacy_full_tsv/) against furrow's enricher,
 *    printed as pass / fail / unsupported per category, then `N passed, M failed`:
 *      unsupported  the vector needs an adapter or enrichment furrow does not (yet) have, or an external
 *                   service (Open Exchange Rates, an HTTP API, PostgreSQL fixture) — counted, never a failure
 *      known        listed in test-conformance/known-differences.json with the reason — counted, never a failure
 *      fail         anything else that does not match
 * 2. the tap tests in test-conformance/*.test.ts: checks against Snowplow's files in ../shared (spec DDL, Iglu
 *    Central's original schemas, example configs, MaxMind/IAB test assets, the reference Thrift codec, the webhook
 *    and full-TSV vectors through furrow's adapters, loaders and forwarders).
 * Exits 1 if either part fails.
 *
 * The parts: harness.ts (paths, outcomes, tallies, summary), enricher-setup.ts (resolver, deps, manager, field
 * checks), unit-vectors.ts (unit/), end-to-end.ts (blackbox/, legacy_full_tsv/), stand-ins.ts (loopback services).
 */
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { resolverOver } from './enricher-setup.js';
import { blackboxVectors, legacyVectors } from './end-to-end.js';
import { printSummary, ROOT, VECTORS } from './harness.js';
import { unitVectors } from './unit-vectors.js';

/** The tap tests that read ../shared (test-conformance/*.test.ts); 0 when they all pass. */
function tapTests(): number {
  const files = readdirSync(import.meta.dirname).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test-conformance', f));
  console.log(`\nconformance tap tests (${files.length} files):`);
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'tap'), files, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

async function main(): Promise<number> {
  if (!existsSync(VECTORS)) {
    console.log(`conformance: skipped (Snowplow's vectors are not in the repository and ${join('..', 'shared', 'conformance')} is not beside the project root)`);
    return 0;
  }
  const started = Date.now();
  const common = await resolverOver('test-iglu-registry-common');
  const blackbox = await resolverOver('test-iglu-registry-5.4.0');
  await unitVectors(common);
  await blackboxVectors(blackbox);
  await legacyVectors(blackbox);
  await new Promise((r) => setImmediate(r));

  const { failed } = printSummary(started);
  const tap = tapTests();
  console.log(`\nconformance: vectors ${failed === 0 ? 'passed' : `${failed} failed`}; tap tests ${tap === 0 ? 'passed' : 'failed'}`);
  return failed === 0 && tap === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);

