/**
 * `furrow mini --data DIR`: the store's records on disk, so they survive a restart. An append-only journal of
 * what the store was given, replayed into the in-memory store at start (measured against PGlite, an embedded
 * PostgreSQL, in bench/mini-store.ts; docs/mini.md has the figures and why this won).
 *
 *   DIR/mini.lock                 {"pid","host","startedAt"} of the mini using DIR (created with link(): atomic)
 *   DIR/events-00000001.ndjson    segments, oldest first; each: a header line, then one record per line:
 *   DIR/events-00000002.ndjson      {"furrow-mini-journal":1}
 *   …                               {"k":"g"|"b","t":receivedAt ms,"x":raw event | collector payload | null} TAB stream line
 *                                   (a stream line holding a LF goes inside the JSON instead, as "l")
 *
 * The stream line (the enriched TSV or bad-row JSON, 2-3 KB) follows the JSON as it is: escaping it into a JSON
 * string and parsing it back cost about as much as the rest of the record (measured in bench/mini-store.ts). JSON
 * text never holds a raw TAB, so the first TAB ends the JSON.
 *
 *   start:  lock → read every segment (a line that is not a record → MINI_DATA_CORRUPT, naming file and line)
 *           → store.restore(the newest maxEvents) → delete segments holding only evicted records
 *   add:    store.addGood/addBad → added(): one write() of the record's line, in the same synchronous turn, so
 *           nothing the API shows is missing from the file; a full segment (SEGMENT_RECORDS) starts the next;
 *           once every record of the oldest segment was evicted by --max-events, that segment is deleted
 *   reset:  every segment deleted, a new empty one started
 *   stop:   fsync, close, lock removed
 *
 * After a crash (kill -9) every record the store held is in the file (write() returned before the API could show
 * it); no fsync per record, so an OS crash or power loss may lose the last seconds, and may leave a torn last line
 * in the newest segment, which start-up drops with a warning. Events still in the embedded Kinesis streams
 * (accepted, not yet enriched and stored) are in memory only and are lost by a crash.
 */
import { closeSync, fsyncSync, ftruncateSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { RestoredRecord, StoredRecord, StorePersistence } from './store.js';

const HEADER = '{"furrow-mini-journal":1}\n';
const SEGMENT_RE = /^events-(\d{8})\.ndjson$/;
const LOCK_FILE = 'mini.lock';

interface Segment {
  n: number;
  path: string;
  records: number;
}

export interface StoreJournalOptions {
  dir: string;
  /** The store's cap: only the newest maxEvents records are restored; segments beyond it are deleted. */
  maxEvents: number;
  logger: Logger;
  /** Records per segment file (default: a quarter of maxEvents, 100..10 000). */
  segmentRecords?: number;
  /** A write failed (disk full, directory gone): mini stops loudly rather than keep events it cannot persist. */
  onError?: (e: Error) => void;
}

export interface OpenedJournal {
  journal: StoreJournal;
  /** Records to give store.restore(), oldest first. */
  records: RestoredRecord[];
}

/** Creates DIR if missing, takes its lock, reads what it holds. Throws MINI_DATA_* with what to do. */
export function openStoreJournal(o: StoreJournalOptions): OpenedJournal {
  try {
    mkdirSync(o.dir, { recursive: true });
  } catch (e) {
    throw new FurrowError('MINI_DATA_DIR', `--data ${o.dir}: cannot create the directory: ${(e as Error).message}`, { cause: e });
  }
  let st;
  try {
    st = statSync(o.dir);
  } catch (e) {
    throw new FurrowError('MINI_DATA_DIR', `--data ${o.dir}: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) throw new FurrowError('MINI_DATA_DIR', `--data ${o.dir}: not a directory`);
  const lock = takeLock(o.dir);
  try {
    const segments: Segment[] = [];
    const records: RestoredRecord[] = [];
    const names = readdirSync(o.dir).filter((f) => SEGMENT_RE.test(f)).sort();
    for (let i = 0; i < names.length; i++) {
      const path = join(o.dir, names[i]!);
      const n = Number(SEGMENT_RE.exec(names[i]!)![1]);
      const count = readSegment(path, records, i === names.length - 1, o.logger);
      segments.push({ n, path, records: count });
    }
    const segmentRecords = o.segmentRecords ?? Math.min(10_000, Math.max(100, Math.ceil(o.maxEvents / 4)));
    const journal = new StoreJournal(o, lock, segments, records.length, segmentRecords);
    const kept = records.length > o.maxEvents ? records.slice(records.length - o.maxEvents) : records;
    journal.dropEvicted(kept.length);
    return { journal, records: kept };
  } catch (e) {
    releaseLock(lock);
    throw e;
  }
}

/** Parses one segment into `out`; returns its record count. */
function readSegment(path: string, out: RestoredRecord[], newest: boolean, log: Logger): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FurrowError('MINI_DATA_DIR', `${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  const corrupt = (line: number, why: string) =>
    new FurrowError(
      'MINI_DATA_CORRUPT',
      `${path} line ${line}: ${why}. mini does not start on data it cannot read; move the directory away (or start with another --data) and keep it for inspection`,
    );
  if (!text.startsWith(HEADER)) {
    if (text.length === 0 && newest) return 0; // created, then crashed before its header was written
    throw corrupt(1, 'not a furrow mini event file (its first line is not {"furrow-mini-journal":1}: another tool\'s file, or a newer furrow)');
  }
  let end = text.length;
  if (!text.endsWith('\n')) {
    // A torn last line: the write a crash interrupted. Only the newest segment can have one.
    end = text.lastIndexOf('\n') + 1;
    if (!newest) throw corrupt(text.slice(0, end).split('\n').length, 'the file ends in the middle of a line (and it is not the newest segment)');
    log.warn({ file: path, bytes: text.length - end }, 'mini --data: dropping a torn last line (a write interrupted by a crash)');
    try {
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)));
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw new FurrowError('MINI_DATA_DIR', `${path}: cannot truncate the torn last line: ${(e as Error).message}`, { cause: e });
    }
  }
  let count = 0;
  let lineNo = 1;
  let pos = HEADER.length;
  while (pos < end) {
    const nl = text.indexOf('\n', pos);
    const line = text.slice(pos, nl);
    pos = nl + 1;
    lineNo++;
    const tab = line.indexOf('\t');
    let v: unknown;
    try {
      v = JSON.parse(tab === -1 ? line : line.slice(0, tab));
    } catch (e) {
      throw corrupt(lineNo, `not JSON (${(e as Error).message})`);
    }
    const r = v as { k?: unknown; t?: unknown; l?: unknown; x?: unknown };
    if (tab !== -1 && v !== null && typeof v === 'object') r.l = line.slice(tab + 1);
    if (v === null || typeof v !== 'object' || (r.k !== 'g' && r.k !== 'b') || typeof r.t !== 'number' || typeof r.l !== 'string' || (r.x !== null && (typeof r.x !== 'object' || Array.isArray(r.x)))) {
      throw corrupt(lineNo, 'not a stored record ({"k":"g"|"b","t":ms,"x":object|null} TAB line)');
    }
    out.push({ kind: r.k === 'g' ? 'good' : 'bad', line: r.l, receivedAt: r.t, tapped: r.x as RestoredRecord['tapped'] });
    count++;
  }
  return count;
}

// ------------------------------------------------------------------ the lock

interface Lock {
  path: string;
  content: string;
}

/** Locks this process holds (two minis in one process, as tests start them, must not share a directory either). */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * DIR/mini.lock, made by link() from a temporary file so that exactly one of two starting minis gets it. A lock
 * left by a mini that died (kill -9) on this host names a pid that no longer runs (or ours without this process
 * holding it: a container restarted with the same pid): it is moved aside and taken.
 */
function takeLock(dir: string): Lock {
  const path = join(resolve(dir), LOCK_FILE);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }) + '\n';
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new FurrowError('MINI_DATA_DIR', `--data ${dir}: cannot write in the directory: ${(e as Error).message}`, { cause: e });
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path);
        heldHere.add(path);
        return { path, content };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new FurrowError('MINI_DATA_DIR', `--data ${dir}: cannot create ${LOCK_FILE}: ${(e as Error).message}`, { cause: e });
        }
      }
      let text: string | null;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        text = null; // released meanwhile: link() again
      }
      if (text !== null) {
        let holder: { pid?: unknown; host?: unknown } | null = null;
        try {
          holder = JSON.parse(text) as { pid?: unknown; host?: unknown };
        } catch {
          holder = null;
        }
        const pid = holder?.pid;
        const host = holder?.host;
        // A lock is written whole (link() of a complete file): anything else is not one of ours.
        if (typeof pid !== 'number' || typeof host !== 'string') {
          throw new FurrowError('MINI_DATA_LOCKED', `--data ${dir}: ${path} is not a furrow mini lock; if no mini uses the directory, delete that file`);
        }
        if (host !== hostname()) {
          throw new FurrowError('MINI_DATA_LOCKED', `--data ${dir}: used by furrow mini (pid ${pid}) on host ${host}; if it no longer runs there, delete ${path}`);
        }
        if (pid === process.pid ? heldHere.has(path) : alive(pid)) {
          throw new FurrowError('MINI_DATA_LOCKED', `--data ${dir}: another furrow mini (pid ${pid}) is using it; stop it or give another --data directory`);
        }
      }
      // Stale: moved aside (rename is atomic: of two minis taking over, one moves it, the other sees ENOENT).
      try {
        renameSync(path, join(dir, `${LOCK_FILE}.stale`));
      } catch {
        // taken over by someone else, or already gone: try link() again
      }
    }
    throw new FurrowError('MINI_DATA_LOCKED', `--data ${dir}: could not take ${path} (another mini starting at the same time?)`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

function releaseLock(lock: Lock): void {
  heldHere.delete(lock.path);
  try {
    if (readFileSync(lock.path, 'utf8') === lock.content) unlinkSync(lock.path);
  } catch {
    // gone already
  }
}

// ------------------------------------------------------------------ the journal

export class StoreJournal implements StorePersistence {
  private readonly dir: string;
  private readonly log: Logger;
  private readonly onError: (e: Error) => void;
  private fd: number | null = null;
  /** Records in the segment files (evicted ones included until their segment goes). */
  private inFiles: number;
  private failed = false;

  constructor(
    o: StoreJournalOptions,
    private readonly lock: Lock,
    private readonly segments: Segment[],
    inFiles: number,
    private readonly segmentRecords: number,
  ) {
    this.dir = o.dir;
    this.log = o.logger;
    this.onError = o.onError ?? ((e) => this.log.error({ err: e.message }, 'mini --data: write failed'));
    this.inFiles = inFiles;
  }

  get directory(): string {
    return this.dir;
  }

  /** Records in the files now. */
  get records(): number {
    return this.inFiles;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  added(kind: 'good' | 'bad', line: string, rec: StoredRecord, kept: number): void {
    if (this.failed) return;
    try {
      let seg = this.segments[this.segments.length - 1];
      if (seg === undefined || this.fd === null || seg.records >= this.segmentRecords) seg = this.nextSegment();
      const x = rec.valid ? rec.rawEvent : rec.bad.collectorPayload === null ? rec.collectorPayload : null;
      // One write() per record: its line is in the file before any API answer can show the record.
      const k = kind === 'good' ? 'g' : 'b';
      writeSync(this.fd!, line.includes('\n') ? JSON.stringify({ k, t: rec.receivedAt, x, l: line }) + '\n' : `${JSON.stringify({ k, t: rec.receivedAt, x })}\t${line}\n`);
      seg.records++;
      this.inFiles++;
      if (this.inFiles - kept >= this.segments[0]!.records) this.dropEvicted(kept);
    } catch (e) {
      this.failed = true;
      this.onError(new FurrowError('MINI_DATA_DIR', `--data ${this.dir}: cannot write: ${(e as Error).message}`, { cause: e }));
    }
  }

  reset(): void {
    if (this.failed) return;
    try {
      this.closeFd();
      for (const s of this.segments.splice(0)) unlinkSync(s.path);
      this.inFiles = 0;
      this.nextSegment();
    } catch (e) {
      this.failed = true;
      this.onError(new FurrowError('MINI_DATA_DIR', `--data ${this.dir}: cannot clear: ${(e as Error).message}`, { cause: e }));
    }
  }

  /** Deletes the oldest segments whose every record was evicted (`kept`: records the store holds). */
  dropEvicted(kept: number): void {
    while (this.segments.length > 1 && this.inFiles - kept >= this.segments[0]!.records) {
      const s = this.segments.shift()!;
      unlinkSync(s.path);
      this.inFiles -= s.records;
    }
  }

  private nextSegment(): Segment {
    this.closeFd();
    const last = this.segments[this.segments.length - 1];
    let seg: Segment;
    if (last !== undefined && last.records < this.segmentRecords) {
      seg = last; // the newest segment after a restart: go on appending to it
      this.fd = openSync(seg.path, 'a');
      if (statSync(seg.path).size === 0) writeSync(this.fd, HEADER);
    } else {
      const n = (last?.n ?? 0) + 1;
      seg = { n, path: join(this.dir, `events-${String(n).padStart(8, '0')}.ndjson`), records: 0 };
      this.fd = openSync(seg.path, 'wx');
      writeSync(this.fd, HEADER);
      this.segments.push(seg);
    }
    return seg;
  }

  private closeFd(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** fsync, close, release the lock. */
  close(): void {
    try {
      this.closeFd();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'mini --data: error while closing the event file');
    }
    releaseLock(this.lock);
  }
}
