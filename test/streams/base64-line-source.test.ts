/**
 * Base64LineSource: which lines become decoded records and which stay raw bytes (a raw line fails the Thrift loader
 * and its bad row gives the line back). Padded lines (length 4n) are judged by the decoded length instead of a regex
 * (issue 18); the fuzz case holds that rule equal to the regex rule it replaced, so a Node whose base64 decoder
 * treats foreign characters differently fails here instead of turning garbage into records.
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { Base64LineSource } from '../../streams/sources/base64-line-source.js';

/** The rule before issue 18: a length other than 4n+1 and only alphabet characters, then up to two '='. */
const REGEX_RULE = /^[A-Za-z0-9+/_-]+={0,2}$/;

function expected(line: string): Buffer {
  const trimmed = line.replace(/^[ \t\r\v\f]+|[ \t\r\v\f]+$/g, '');
  return (trimmed.length & 3) !== 1 && REGEX_RULE.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.from(trimmed, 'latin1');
}

async function read(chunks: Buffer[], batchSize = 64): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const src = new Base64LineSource(Readable.from(chunks), 'test', batchSize);
  await src.run(async (b) => {
    out.push(...b.records);
  }, new AbortController().signal);
  return out;
}

t.test('valid lines decode; padded, unpadded and URL-safe', async (t) => {
  const payloads = [Buffer.from([0xfb, 0xff, 0x3e]), Buffer.from('hello world'), Buffer.from([0xff, 0xfe]), Buffer.alloc(0x300, 0xab)];
  const lines = [
    ...payloads.map((p) => p.toString('base64')),
    ...payloads.map((p) => p.toString('base64url')),
  ];
  const got = await read([Buffer.from(lines.join('\r\n') + '\n')]);
  t.same(got.map((b) => b.toString('hex')), [...payloads, ...payloads].map((p) => p.toString('hex')));
});

t.test('lines that are not base64 stay raw bytes', async (t) => {
  const lines = ['not base64!', 'AAAA#AAA', 'AA=A', '====', 'AAAAA', 'AAA===', 'QUJD\u00e9EFG', 'AB C'];
  const got = await read([Buffer.from(lines.join('\n'), 'latin1')]);
  t.same(got.map((b) => b.toString('latin1')), lines);
});

t.test('a line split across chunks is joined before it is judged', async (t) => {
  const line = Buffer.alloc(5000, 7).toString('base64');
  const whole = Buffer.from(`${line}\n${line}\n`);
  const got = await read([whole.subarray(0, 1000), whole.subarray(1000, 6700), whole.subarray(6700)]);
  t.equal(got.length, 2);
  t.ok(got.every((b) => b.equals(Buffer.alloc(5000, 7))));
});

t.test('fuzz: the decoded-length rule answers as the regex rule did (seeded)', async (t) => {
  let seed = 0x18b64;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-';
  const foreign = '= !*.%$#"\\\u00e9\u00ff\u0080\u0000\u0001';
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const len = 1 + Math.floor(rnd() * (i % 4 === 0 ? 400 : 16));
    const chars: string[] = [];
    for (let j = 0; j < len; j++) chars.push(alphabet[Math.floor(rnd() * alphabet.length)]!);
    const foreignCount = Math.floor(rnd() * 3);
    for (let k = 0; k < foreignCount; k++) chars[Math.floor(rnd() * len)] = foreign[Math.floor(rnd() * foreign.length)]!;
    const pads = Math.floor(rnd() * 4);
    for (let k = 0; k < pads && k < len; k++) chars[len - 1 - k] = '=';
    const line = chars.join('');
    if (line.trim() !== '') lines.push(line);
  }
  const got = await read([Buffer.from(lines.join('\n'), 'latin1')], 512);
  t.equal(got.length, lines.length);
  let mismatches = 0;
  for (let i = 0; i < lines.length; i++) if (!got[i]!.equals(expected(lines[i]!))) mismatches++;
  t.equal(mismatches, 0, `every one of ${lines.length} random lines is classified as the regex classified it`);
});
