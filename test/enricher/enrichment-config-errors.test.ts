/** An enrichment config that does not match its schema is named with each problem's path once. */
import t from 'tap';
import { tmpdir } from 'node:os';
import { silentLogger } from '../../common/logger.js';
import { createBuiltinResolver } from '../../iglu-resolver/index.js';
import { buildEnrichments } from '../../enricher/enrichments/registry.js';

t.test('schema problems name their path once', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true });
  const config = { schema: 'iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1', data: { enabled: true, parameters: { anonOctets: 'x' } } };
  const e = await buildEnrichments([config], { resolver, logger: silentLogger, assetsDir: tmpdir(), fetch: globalThis.fetch }).then(() => null, (err: Error) => err);
  t.ok(e);
  t.match(e!.message, /\$\.parameters\.anonOctets: string found/);
  t.notMatch(e!.message, /(\$[.\w]*): \1:/, e!.message);
  t.notMatch(e!.message, /\$: \$/, e!.message);
});
