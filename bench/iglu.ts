/**
 * Hot path of the Iglu resolver: validateCached() of typical tracker contexts against cached schemas, compared in
 * the same run with calling the compiled Ajv function directly (the floor: no lookup, no outcome).
 *
 *   npm run bench:iglu            (fixed rounds × iterations, loopback-free: built-in registry only)
 *
 * Target: ratio (resolver / floor) ≥ 0.8. Rounds alternate between the two to share CPU conditions; the best round
 * of each is reported.
 */
import { readFileSync } from 'node:fs';
import { createBuiltinResolver } from '../iglu-resolver/index.js';
import { builtinRegistryRoot } from '../iglu-resolver/builtin.js';
import { createSchemaCompiler } from '../iglu-resolver/validator.js';

const ROUNDS = 15;
const ITERATIONS = 250_000;

/** A browser tracker's default entities for one page view: web_page, client_session, browser_context-like data. */
const CASES: Array<{ uri: string; data: unknown }> = [
  { uri: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: '0b4ba1b9-0a2b-4ef8-8c1f-6b5b0b4ba1b9' } },
  {
    uri: 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2',
    data: {
      userId: 'fd0e5288-e89a-45df-aa7c-df7f9b3b6f1b',
      sessionId: '5f4a6b8e-7c1d-4b3a-9e2f-1a2b3c4d5e6f',
      sessionIndex: 3,
      previousSessionId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
      storageMechanism: 'LOCAL_STORAGE',
      firstEventId: '7a8b9c0d-1e2f-4a3b-8c5d-6e7f8a9b0c1d',
      firstEventTimestamp: '2026-11-26T09:00:00.000Z',
      eventIndex: 12,
    },
  },
  {
    uri: 'iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0',
    data: { latitude: 52.52, longitude: 13.405, latitudeLongitudeAccuracy: 20, altitude: 34, altitudeAccuracy: null, bearing: null, speed: null, timestamp: 1764147600000 },
  },
];

function schemaOf(uri: string): unknown {
  const path = uri.slice('iglu:'.length);
  return JSON.parse(readFileSync(`${builtinRegistryRoot()}/schemas/${path}`, 'utf8'));
}

async function main(): Promise<void> {
  const resolver = await createBuiltinResolver({ offline: true }); // cacheTtl 600 s: the TTL check is measured too
  const compiler = createSchemaCompiler();
  const floorFns = CASES.map((c) => {
    const r = compiler.compile(schemaOf(c.uri));
    if (!r.ok) throw new Error(`${c.uri} does not compile`);
    return r.validate;
  });
  for (const c of CASES) {
    const out = await resolver.validate(c.uri, c.data);
    if (!out.ok) throw new Error(`${c.uri}: bench data invalid: ${JSON.stringify(out.error)}`);
  }
  floorFns.forEach((fn, i) => {
    if (fn(CASES[i]!.data) !== true) throw new Error('floor data invalid');
  });

  const n = CASES.length;
  let sink = 0;
  const runFloor = (): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) {
      const k = i % n;
      if (floorFns[k]!(CASES[k]!.data)) sink++;
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const runResolver = (): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) {
      const k = i % n;
      const c = CASES[k]!;
      if (resolver.validateCached(c.uri, c.data)?.ok) sink++;
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  let bestFloor = Infinity;
  let bestResolver = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    bestFloor = Math.min(bestFloor, runFloor());
    bestResolver = Math.min(bestResolver, runResolver());
  }
  const floorRate = ITERATIONS / bestFloor;
  const resolverRate = ITERATIONS / bestResolver;
  const ratio = resolverRate / floorRate;
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  process.stdout.write(
    [
      `iglu validateCached (${n} typical contexts, ${ROUNDS} rounds × ${ITERATIONS.toLocaleString('en-US')}, best round)`,
      `  floor: compiled ajv function   ${fmt(floorRate)} validations/s`,
      `  resolver.validateCached        ${fmt(resolverRate)} validations/s`,
      `  ratio                          ${ratio.toFixed(3)} (target ≥ 0.8)  ${ratio >= 0.8 ? 'OK' : 'BELOW TARGET'}`,
      `  (checksum ${sink})`,
    ].join('\n') + '\n',
  );
  if (ratio < 0.8) process.exitCode = 1;
}

await main();
