/**
 * mini --data's journal (mini/store-journal.ts) on real files: what the store held comes back after a reopen
 * (raw events and times included), reset empties it, the lock keeps a second store out and is taken over
 * from a dead process, a damaged file stops start-up naming file and line, a torn last line (a crash) is
 * dropped, evicted records' segments are deleted, and a write that fails is reported.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/logger.js';
import type { MicroRawEvent } from '../../mini/raw-events.js';
import { MiniStore } from '../../mini/store.js';
import { openStoreJournal, type StoreJournalOptions } from '../../mini/store-journal.js';
import { pageView, schemaViolation, trackerProtocolViolation, uuid } from './fixtures.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'furrow-journal-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function raw(eid: string): MicroRawEvent {
  return {
    api: { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' }, parameters: { e: 'pv', eid, url: 'http://shop.example/' },
    contentType: 'application/json', source: { name: 'ssc', encoding: 'UTF-8', hostname: 'localhost' },
    context: { timestamp: '2026-11-26T10:00:00.000Z', ipAddress: '127.0.0.1', useragent: 'ua', refererUri: null, headers: ['Host: x'], userId: null },
  };
}

/** A store on a journal in `dir`, with a tap that hands each good event the raw event given for it. */
function open(dir: string, over: Partial<StoreJournalOptions> = {}, now = () => 1_000) {
  const { journal, records } = openStoreJournal({ dir, maxEvents: 1000, logger: silentLogger, ...over });
  const raws = new Map<string, MicroRawEvent>();
  const tap = { take: (eid: string | null) => (eid !== null && raws.has(eid) ? { raw: raws.get(eid)! } : undefined), payloadFor: () => null, clear() {} };
  const store = new MiniStore({ maxEvents: over.maxEvents ?? 1000, tap: tap as never, persistence: journal, now });
  store.restore(records);
  return {
    store, journal, restored: records.length,
    good(eid = uuid()) {
      raws.set(eid, raw(eid));
      return store.addGood(pageView({ event_id: eid }));
    },
    close() {
      store.close();
      journal.close();
    },
  };
}

const answers = (s: MiniStore) => ({
  all: s.summary(),
  good: s.filterGood().map((r) => s.goodEventJson(r)),
  bad: s.filterBad().map((r) => s.badEventJson(r)),
  times: s.all().map((r) => r.receivedAt),
  schemas: s.schemas(),
  groups: s.groups().map((g) => ({ ...g, latestSeq: 0 })),
});

t.test('good, bad and raw events come back after a reopen; reset empties the directory', async (t) => {
  const dir = tempDir(t);
  let clock = 1_000;
  const a = open(dir, {}, () => clock++);
  const eid = uuid();
  a.good(eid);
  a.store.addBad(schemaViolation(uuid()));
  a.store.addBad(trackerProtocolViolation());
  a.store.addGood('not\ta\tgood\tline');
  a.store.addGood('a line\nwith a LF\tinside'); // kept inside the record's JSON, not after its TAB
  a.good();
  const before = answers(a.store);
  t.same(before.all, { total: 6, good: 2, bad: 4 });
  t.equal((before.good[1] as { rawEvent: MicroRawEvent }).rawEvent.parameters.eid, eid, 'the raw event is there before');
  a.close();
  t.notOk(existsSync(join(dir, 'mini.lock')), 'the lock is removed on close');

  const b = open(dir, {}, () => 99_999);
  t.equal(b.restored, 6);
  t.same(answers(b.store), before, 'the same answers, raw events and store times after the reopen');
  t.equal(b.store.byId(eid).length, 1, 'found by event id');
  b.store.reset();
  t.same(b.store.summary(), { total: 0, good: 0, bad: 0 });
  b.good();
  b.close();

  const c = open(dir);
  t.equal(c.restored, 1, 'reset cleared the file: only the event added after it is back');
  c.close();
});

t.test('the lock: one store per directory; a dead holder\'s lock is taken over', async (t) => {
  const dir = tempDir(t);
  const a = open(dir);
  t.throws(() => openStoreJournal({ dir, maxEvents: 10, logger: silentLogger }), { code: 'MINI_DATA_LOCKED', message: /another furrow mini \(pid \d+\)/ });
  a.close();
  const b = open(dir);
  b.close();

  // A mini killed with -9 leaves its lock: the pid of a process that has exited.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  t.ok(deadPid > 0);
  writeFileSync(join(dir, 'mini.lock'), JSON.stringify({ pid: deadPid, host: hostname(), startedAt: 'x' }) + '\n');
  const c = open(dir);
  t.match(JSON.parse(readFileSync(join(dir, 'mini.lock'), 'utf8')), { pid: process.pid }, 'the stale lock was taken over');
  c.close();

  writeFileSync(join(dir, 'mini.lock'), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'x' }) + '\n');
  t.throws(() => openStoreJournal({ dir, maxEvents: 10, logger: silentLogger }), { code: 'MINI_DATA_LOCKED', message: /on host elsewhere/ });
  writeFileSync(join(dir, 'mini.lock'), 'garbage');
  t.throws(() => openStoreJournal({ dir, maxEvents: 10, logger: silentLogger }), { code: 'MINI_DATA_LOCKED', message: /not a furrow mini lock/ });
});

t.test('damaged data stops start-up with file and line; a torn last line is dropped', async (t) => {
  const dir = tempDir(t);
  const a = open(dir);
  a.good();
  a.good();
  a.close();
  const [seg] = readdirSync(dir).filter((f) => f.startsWith('events-'));
  const path = join(dir, seg!);
  const good = readFileSync(path, 'utf8');

  // A crash in the middle of a write: the last line has no newline.
  appendFileSync(path, '{"k":"g","t":1,"l":"half');
  const b = open(dir);
  t.equal(b.restored, 2, 'the two whole records are back');
  b.good();
  b.close();
  t.equal(open(dir).restored, 3, 'and the file goes on after the cut');

  const lockFree = () => rmSync(join(dir, 'mini.lock'), { force: true });
  lockFree();
  const lines = good.split('\n');
  writeFileSync(path, [lines[0], lines[1], 'nonsense', lines[2], ''].join('\n'));
  t.throws(() => openStoreJournal({ dir, maxEvents: 10, logger: silentLogger }), { code: 'MINI_DATA_CORRUPT', message: new RegExp(`${seg} line 3: not JSON`) });
  t.notOk(existsSync(join(dir, 'mini.lock')), 'a failed start leaves no lock behind');

  writeFileSync(path, [lines[0], '{"k":"x","t":1,"l":""}', ''].join('\n'));
  t.throws(() => openStoreJournal({ dir, maxEvents: 10, logger: silentLogger }), { code: 'MINI_DATA_CORRUPT', message: /line 2: not a stored record/ });

  writeFileSync(path, 'id,name\n1,x\n');
  t.throws(() => openStoreJournal({ dir, maxEvents: 10, logger: silentLogger }), { code: 'MINI_DATA_CORRUPT', message: /not a furrow mini event file/ });

  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  t.throws(() => openStoreJournal({ dir: file, maxEvents: 10, logger: silentLogger }), { code: 'MINI_DATA_DIR' });
});

t.test('--max-events: segments holding only evicted records are deleted; a reopen restores the newest', async (t) => {
  const dir = tempDir(t);
  const a = open(dir, { maxEvents: 10, segmentRecords: 4 });
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    ids.push(uuid());
    a.good(ids[i]);
  }
  t.ok(a.store.summary().total <= 10);
  const kept = a.store.all().map((r) => r.eventId);
  t.ok(a.journal.segmentCount <= 5, `old segments deleted (${a.journal.segmentCount} left)`);
  t.ok(a.journal.records < 10 + 2 * 4, `the files hold ${a.journal.records} records, not 50`);
  a.close();
  const b = open(dir, { maxEvents: 10, segmentRecords: 4 });
  t.same(b.store.all().map((r) => r.eventId), kept, 'the same newest events after the reopen');
  b.close();
});

t.test('a write that fails is reported, not thrown at the stream reader', async (t) => {
  const dir = tempDir(t);
  const errors: Error[] = [];
  const a = open(dir, { segmentRecords: 1, onError: (e) => errors.push(e) });
  a.good();
  rmSync(dir, { recursive: true, force: true });
  t.doesNotThrow(() => a.good(), 'the add itself goes on');
  t.equal(errors.length, 1);
  t.match(errors[0]!.message, /MINI_DATA_DIR: --data .*cannot write/);
  a.store.close();
  a.journal.close();
});
