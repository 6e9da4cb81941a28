/**
 * Child-process probe for the JS enrichment: a script that floods the microtask queue must be cut off by the
 * per-event limit and the host must keep running. (It ran outside tap because, when scripts ran in the enricher's
 * own process, tap's async hooks interacted badly with a terminated microtask drain; scripts now run in their own
 * process, and the probe stays a child process as a bounded check.) Prints one JSON line.
 */
import { buildEnrichments } from '../../enricher/enrichments/registry.js';
import { makeInput, sdj, testDeps } from './enrichments-deps.js';

const source = 'function process(e) { (async function f() { await null; f(); })(); Promise.resolve().then(function g() { return Promise.resolve().then(g); }); return null; }';
const p = await buildEnrichments(
  [sdj('iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-0', { vendor: 'com.snowplowanalytics.snowplow', name: 'javascript_script_config', enabled: true, parameters: { script: Buffer.from(source).toString('base64') } })],
  testDeps({ javascriptTimeoutMs: 100 }),
);
const t0 = Date.now();
const r = await p.run(makeInput({ app_id: 'a' }));
await new Promise((res) => setTimeout(res, 20)); // the host event loop still turns
process.stdout.write(`${JSON.stringify({ ms: Date.now() - t0, failures: r.failures.map((f) => f.message) })}\n`);
