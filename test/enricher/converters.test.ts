/**
 * Converters and JSON printing: Java renderings (BigDecimal, Float, Integer), lenient base64, timestamps,
 * lossless JSON re-serialization, depth limits and jawn-like error messages.
 */
import t from 'tap';
import {
  ConversionError, convertDecimal, convertInt, convertTrackerTimestamp, decodeBase64Lenient, encodeBase64UrlChunked, formatBigDecimal,
  instantToString, javaFloatToString, makeTsvSafe, cleanHeaderUseragent,
} from '../../enricher/converters.js';
import { describeJsonError, exceedsDepth, parseJson, stringifyJson } from '../../enricher/json.js';
import { derivedTstamp } from '../../enricher/enrichment-manager.js';
import { explodeUri, normalizeUri } from '../../enricher/uri.js';
import { parseQuerystring } from '../../common/querystring.js';

t.test('BigDecimal rendering', async (t) => {
  const cases: Array<[string, string | null]> = [
    ['42', '42'], ['35708.23', '35708.23'], ['0.0', '0.0'], ['8000', '8000'], ['1E+3', '1000'], ['1e3', '1000'], ['1.5e1', '15'],
    ['1E-9', '1E-9'], ['0.000000001', '1E-9'], ['0.0000001', '1E-7'], ['0.000001', '0.000001'], ['-0.50', '-0.50'], ['+7', '7'],
    ['.5', '0.5'], ['5.', '5'], ['-0', '0'], ['NULL', null], ['null', null], ['12345678901234567890.123', '12345678901234567890.123'],
  ];
  for (const [input, want] of cases) t.equal(convertDecimal(input), want, input);
  for (const bad of ['', 'abc', '1,5', '1e', '--1', '0x10', ' 1']) t.type(convertDecimal(bad), ConversionError, `${JSON.stringify(bad)} rejected`);
  t.equal(formatBigDecimal(false, '123', 5), '0.00123');
});

t.test('Java Integer and Float renderings', async (t) => {
  t.equal(convertInt('2147483647'), '2147483647');
  t.type(convertInt('2147483648'), ConversionError);
  t.equal(convertInt('-0'), '0');
  t.equal(convertInt('+5'), '5');
  t.equal(javaFloatToString(53.3331), '53.3331');
  t.equal(javaFloatToString(-6.2489), '-6.2489');
  t.equal(javaFloatToString(42.1), '42.1');
  t.equal(javaFloatToString(42), '42.0');
  t.equal(javaFloatToString(1e7), '1.0E7');
  t.equal(javaFloatToString(0.0001), '1.0E-4');
  t.equal(javaFloatToString(0), '0.0');
});

t.test('timestamps', async (t) => {
  t.equal(convertTrackerTimestamp('1735693323000'), '2025-01-01 01:02:03.000');
  t.equal(convertTrackerTimestamp('-1'), '1969-12-31 23:59:59.999');
  t.same(convertTrackerTimestamp('1111111111111111'), new ConversionError('Formatting as 37179-09-17 07:18:31.111 is not Redshift-compatible'));
  t.same(convertTrackerTimestamp('1.5'), new ConversionError('Not in the expected format: ms since epoch'));
  t.equal(instantToString(Date.UTC(2020, 8, 10, 15, 15, 38, 180)), '2020-09-10T15:15:38.180Z');
  t.equal(instantToString(Date.UTC(2020, 8, 10, 15, 15, 38, 0)), '2020-09-10T15:15:38Z', 'Instant.toString drops zero millis');
  t.equal(derivedTstamp({ true_tstamp: null, dvce_created_tstamp: '2024-02-29 09:00:00.000', dvce_sent_tstamp: '2024-04-01 09:00:00.000', collector_tstamp: '2024-04-01 09:00:00.000' }), '2024-02-29 09:00:00.000');
});

t.test('strings', async (t) => {
  t.equal(makeTsvSafe('a\tb\nc\r\u0000d\u007f'), 'a    bcd');
  t.equal(makeTsvSafe('\n\r'), null);
  t.equal(makeTsvSafe('plain é ü 日本'), 'plain é ü 日本');
  t.equal(cleanHeaderUseragent('Moz\r\nilla\t1\u0001'), 'Mozilla    1\u0001');
});

t.test('base64: commons-codec leniency and MIME-chunked URL-safe encoding', async (t) => {
  t.equal(decodeBase64Lenient('am9obitzbWl0aA'), 'john+smith');
  t.equal(decodeBase64Lenient('am9o\r\nbitz bWl0aA=='), 'john+smith', 'whitespace and CRLF skipped');
  t.equal(decodeBase64Lenient('-_-_'), Buffer.from([0xfb, 0xff, 0xbf]).toString('utf8'), 'URL-safe alphabet');
  t.equal(decodeBase64Lenient('+/+/'), Buffer.from([0xfb, 0xff, 0xbf]).toString('utf8'), 'standard alphabet');
  t.equal(decodeBase64Lenient('¢¢¢'), '');
  t.equal(decodeBase64Lenient('YWJj=ZGVm'), 'abc', 'decoding stops at padding');
  const long = 'x'.repeat(200);
  const enc = encodeBase64UrlChunked(long);
  t.ok(enc.split('\r\n').every((l) => l.length <= 76));
  t.notMatch(enc, /=/);
  t.equal(decodeBase64Lenient(enc), long);
});

t.test('lossless JSON printing', async (t) => {
  const text = '{"b":1.0,"a":[1e3,-0,2.50,12345678901234567890,0.1],"s":"2026-01-01T00:00:00.000Z","n":null,"u":"é/\\u0001"}';
  const r = parseJson(text, 50);
  if (!r.ok) throw new Error(r.error);
  t.equal(stringifyJson(r.value, r.shadow), '{"b":1.0,"a":[1e3,-0,2.50,12345678901234567890,0.1],"s":"2026-01-01T00:00:00.000Z","n":null,"u":"é/\\u0001"}');
  (r.value as { b: number }).b = 7;
  t.equal(JSON.parse(stringifyJson(r.value, r.shadow)).b, 7, 'a changed number prints its new value');
  const plain = parseJson('{"x":1.5,"t":"12:00.0"}', 50);
  t.ok(plain.ok && plain.shadow === undefined, 'no lossless parse when nothing would be respelled');
  // Issue 18: the regex runs only when the parsed value holds a number or a digit-led key; both still find it.
  const noNumbers = parseJson('{"x":"1.0","y":["2e3",true,null,{"z":"-0"}]}', 50);
  t.ok(noNumbers.ok && noNumbers.shadow === undefined, 'numbers inside strings need no shadow');
  const deep = '{"a":' + '['.repeat(70) + '1.0' + ']'.repeat(70) + '}';
  const d = parseJson(deep, 100);
  t.ok(d.ok && stringifyJson(d.value, d.shadow) === deep, 'a lexeme deeper than the walk bound keeps its spelling');
  const key = parseJson('{"b":"x","10":"y"}', 50);
  t.ok(key.ok && key.shadow !== undefined, 'a digit-led key still takes the lossless path');
  const unshadowed = parseJson('{"b":1.0}', 50, false);
  t.ok(unshadowed.ok && unshadowed.shadow === undefined, 'withShadow = false skips it (the tp2 body)');
});

t.test('JSON depth limit and error messages', async (t) => {
  t.notOk(exceedsDepth('{"a":{"b":1}}', 3));
  t.ok(exceedsDepth('{"a":{"b":1}}', 2), 'the scalar counts as a level');
  t.ok(exceedsDepth('['.repeat(60) + ']'.repeat(60), 50));
  t.notOk(exceedsDepth('"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["', 50), 'brackets inside strings do not count');
  t.equal(describeJsonError('body'), "expected json value got 'body' (line 1, column 1)");
  t.equal(describeJsonError('{[-'), "expected \" got '[-' (line 1, column 2)");
  t.equal(describeJsonError(''), 'exhausted input');
  t.equal(describeJsonError('{"a":1}x'), "expected whitespace or eof got 'x' (line 1, column 8)");
  const r = parseJson('[[1]]', 2);
  t.same(r, { ok: false, error: 'invalid json: maximum allowed JSON depth exceeded' });
});

t.test('URIs and querystrings', async (t) => {
  t.equal(normalizeUri('http://a.com/x y'), 'http://a.com/x%20y');
  t.equal(normalizeUri('http://a.com/?q={"a":1}'), 'http://a.com/?q=%7B%22a%22:1%7D');
  t.equal(normalizeUri('http://a.com/ok?x=1#f'), 'http://a.com/ok?x=1#f', 'a valid URI is kept as written');
  const u = explodeUri('https://user@www.example.com/p/a%20th?q=1&r=%2F#frag');
  t.same({ ...u }, { uri: 'https://user@www.example.com/p/a%20th?q=1&r=%2F#frag', scheme: 'https', host: 'www.example.com', port: 443, path: '/p/a%20th', query: 'q=1&r=%2F', fragment: 'frag' });
  t.same(explodeUri('mailto:someone@example.com'), { uri: 'mailto:someone@example.com', scheme: 'mailto', host: null, port: 80, path: null, query: null, fragment: null });
  t.same(parseQuerystring('a=1&b&c=x+y;d=%C3%A9&=skipped&e=', 'UTF-8'), { ok: true, pairs: [{ name: 'a', value: '1' }, { name: 'b', value: null }, { name: 'c', value: 'x y' }, { name: 'd', value: 'é' }, { name: 'e', value: '' }] });
  for (const bad of ['a=b c', 'a="x"', 'a=<', 'a=%zz', 'a=%4', 'a={}', 'a=|', 'a=\\', 'a=^', 'a=`']) {
    t.equal(parseQuerystring(bad, 'UTF-8').ok, false, `${bad} is not a valid URI query`);
  }
  t.same(parseQuerystring('a=1#b=2', 'UTF-8'), { ok: true, pairs: [{ name: 'a', value: '1' }] }, 'a fragment is not part of the query');
  t.same(parseQuerystring('a=%E9', 'ISO-8859-1'), { ok: true, pairs: [{ name: 'a', value: 'é' }] }, 'the payload encoding is used');
  // ASCII escapes are decoded by slicing (issue 18); anything else goes to the encoding-aware decoders.
  const url = 'https%3A%2F%2Fshop.example.com%2Fp%3Fq%3D1%26r%3D%252F%2Bx+y';
  t.same(parseQuerystring(`url=${url}`, 'UTF-8'), { ok: true, pairs: [{ name: 'url', value: decodeURIComponent(url.replaceAll('+', ' ')) }] });
  t.same(parseQuerystring('a=%41%c3%a9%2F', 'UTF-8'), { ok: true, pairs: [{ name: 'a', value: 'Aé/' }] }, 'a multi-byte escape after ASCII ones');
  t.same(parseQuerystring('a=%41%E9%2F', 'ISO-8859-1'), { ok: true, pairs: [{ name: 'a', value: 'Aé/' }] });
  t.same(parseQuerystring('a=%41%FF', 'UTF-8'), { ok: true, pairs: [{ name: 'a', value: 'A\ufffd' }] }, 'invalid UTF-8 still becomes a replacement character');
  t.same(parseQuerystring('a=%00%7F', 'UTF-8'), { ok: true, pairs: [{ name: 'a', value: '\u0000\u007f' }] });
  t.same(parseQuerystring('%EF%BB%BFa=\ufeffb\ufeff', 'UTF-8'), { ok: true, pairs: [{ name: '\ufeffa', value: '\ufeffb\ufeff' }] },
    'a BOM around a token is kept (Apache trims ASCII whitespace only, and the URI check refuses that)');
});
