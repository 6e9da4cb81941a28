/** Iglu URIs, SchemaVer ordering and criteria (iglu-scala-core semantics). */
import t from 'tap';
import { compareSchemaVer, criterionMatches, criterionToString, parseCriterion, parseSchemaUri, parseSchemaVer, schemaKeyToPath, schemaKeyToUri, isSchemaKey } from '../../formats/schema-key.js';
import { javaInstant, retryBackoffMs } from '../../iglu-resolver/resolver.js';

t.test('URIs', async (t) => {
  const k = parseSchemaUri('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0');
  t.ok(isSchemaKey(k));
  if (isSchemaKey(k)) {
    t.same(k, { vendor: 'com.snowplowanalytics.snowplow', name: 'web_page', format: 'jsonschema', model: 1, revision: 0, addition: 0 });
    t.equal(schemaKeyToUri(k), 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0');
    t.equal(schemaKeyToPath(k), 'com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0');
  }
  t.equal(parseSchemaUri('iglu:com.acme/x/jsonschema/1-0'), 'INVALID_SCHEMAVER');
  t.equal(parseSchemaUri('iglu:com.acme/x/jsonschema/0-1-0'), 'INVALID_SCHEMAVER');
  t.equal(parseSchemaUri('iglu:com.acme/x/jsonschema/1-01-0'), 'INVALID_SCHEMAVER');
  t.equal(parseSchemaUri('iglu:com.acme/x.y/jsonschema/1-0-0'), 'INVALID_IGLUURI', 'no dots in names');
  t.equal(parseSchemaUri('com.acme/x/jsonschema/1-0-0'), 'INVALID_IGLUURI');
  t.equal(parseSchemaUri('iglu:com.acme/x/jsonschema/1-0-0/extra'), 'INVALID_IGLUURI');
});

t.test('SchemaVer order', async (t) => {
  const vs = ['2-0-0', '1-10-0', '1-2-10', '1-2-9', '1-0-0'].map((s) => parseSchemaVer(s)!);
  t.same(vs.sort(compareSchemaVer).map((v) => `${v.model}-${v.revision}-${v.addition}`), ['1-0-0', '1-2-9', '1-2-10', '1-10-0', '2-0-0']);
  t.equal(parseSchemaVer('99999999999999999999-0-0'), null, 'unsafe integers rejected');
});

t.test('criteria', async (t) => {
  const c = parseCriterion('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*')!;
  t.equal(criterionToString(c), 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*');
  const key = (u: string) => {
    const k = parseSchemaUri(u);
    if (!isSchemaKey(k)) throw new Error(u);
    return k;
  };
  t.ok(criterionMatches(c, key('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1')));
  t.notOk(criterionMatches(c, key('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-1-0')));
  t.notOk(criterionMatches(c, key('iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0')));
  t.ok(criterionMatches(parseCriterion('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-*-*')!, key('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4')));
  t.equal(parseCriterion('iglu:com.acme/x/jsonschema/*-0'), null);
});

t.test("Snowplow's retry backoff", async (t) => {
  t.equal(retryBackoffMs(1), 504);
  t.equal(retryBackoffMs(3), 564);
  t.equal(retryBackoffMs(8), 60000);
  t.equal(retryBackoffMs(9), 500 + 3 ** 9);
  t.equal(retryBackoffMs(13), 500 + 2 ** 13 + 5000);
  t.equal(retryBackoffMs(40), 60000);
});

t.test('lastAttempt is printed as Java\'s Instant.toString', async (t) => {
  t.equal(javaInstant(Date.UTC(2019, 6, 8, 15, 4, 45)), '2019-07-08T15:04:45Z');
  t.equal(javaInstant(Date.UTC(2019, 6, 8, 15, 4, 45, 100)), '2019-07-08T15:04:45.100Z');
});
