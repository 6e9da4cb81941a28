/**
 * Child-process probe for operator scripts (the JS enrichment and the forwarder's JS transformation): runs one
 * script over a few events and prints one JSON line per event, then `{"done":true}`. The hostile-script tests
 * start it as a separate process (bounded, killed with SIGKILL) because what they check — a script that hangs the
 * host outside its time limit, or exhausts its memory — would otherwise hang or abort the test runner itself.
 *
 *   FURROW_PROBE = {"kind":"enrich"|"transform","script":"…","events":n,"timeoutMs":…,"maxMemoryMb":…}
 */
import { buildEnrichments } from '../../enricher/enrichments/registry.js';
import { compileTransform, SKIP, TransformFailure } from '../../forwarders/transform.js';
import { ForwardEvent } from '../../forwarders/forward-event.js';
import type { TransformConfig } from '../../forwarders/config.js';
import { generateLines } from '../forwarders/tsv-generator.js';
import { makeInput, sdj, testDeps } from './enrichments-deps.js';

interface Probe { kind: 'enrich' | 'transform'; script: string; events?: number; timeoutMs?: number; maxMemoryMb?: number }

const probe = JSON.parse(process.env['FURROW_PROBE'] ?? '{}') as Probe;
const n = probe.events ?? 2;
const print = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

if (probe.kind === 'enrich') {
  const p = await buildEnrichments(
    [sdj('iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-0', {
      vendor: 'com.snowplowanalytics.snowplow', name: 'javascript_script_config', enabled: true,
      parameters: { script: Buffer.from(probe.script).toString('base64') },
    })],
    testDeps({
      ...(probe.timeoutMs === undefined ? {} : { javascriptTimeoutMs: probe.timeoutMs }),
      ...(probe.maxMemoryMb === undefined ? {} : { javascriptMaxMemoryMb: probe.maxMemoryMb }),
    }),
  );
  for (let i = 0; i < n; i++) {
    const r = await p.run(makeInput({ app_id: `app-${i}` }));
    print({ i, failures: r.failures.map((f) => f.message), derivedContexts: r.derivedContexts });
  }
  await p.close();
} else {
  const cfg = { type: 'js', script: probe.script, origin: 'probe.js', timeoutMs: probe.timeoutMs ?? 200, ...(probe.maxMemoryMb === undefined ? {} : { maxMemoryMb: probe.maxMemoryMb }) };
  const tr = (await compileTransform(cfg as TransformConfig, 'probe'))!;
  const evs = generateLines(n).map((l) => ForwardEvent.parse(l) as ForwardEvent);
  for (let i = 0; i < n; i++) {
    const [r] = await tr.many([{ n: i }], [evs[i]!]);
    print({ i, result: r === SKIP ? 'SKIP' : r instanceof TransformFailure ? { failure: r.reason } : r });
  }
  await (tr as { close?: () => Promise<void> }).close?.();
}
print({ done: true });
