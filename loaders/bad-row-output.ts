/**
 * Where bad rows go: a file (appended) or stdout, one compact JSON per line. Written before the batch
 * that produced them commits, so a crash can repeat a bad row but never lose one (at-least-once).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export interface BadRowOutput {
  write(rows: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

function writeAll(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** `target` '-' or 'stdout' = standard output, else a file path (appended). */
export function createBadRowOutput(target: string, stdout: Writable = process.stdout): BadRowOutput {
  const toStdout = target === '-' || target === 'stdout';
  const stream: Writable = toStdout ? stdout : createWriteStream(target, { flags: 'a' });
  return {
    async write(rows) {
      if (rows.length === 0) return;
      await writeAll(stream, rows.join('\n') + '\n');
    },
    async close() {
      if (toStdout) return;
      await new Promise<void>((resolve) => (stream as WriteStream).end(() => resolve()));
    },
  };
}

/** Keeps bad rows in memory (tests, library use). */
export class MemoryBadRowOutput implements BadRowOutput {
  readonly rows: string[] = [];
  async write(rows: readonly string[]): Promise<void> {
    this.rows.push(...rows);
  }
  async close(): Promise<void> {}
}
