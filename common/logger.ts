import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The one way furrow builds a logger: structured JSON lines on stderr (stdout may be a data sink,
 * e.g. the collector's stdout sink or `furrow enrich --output stdout`).
 * Level comes from the CLI (`--log-level`) or defaults to info; tests pass 'silent'.
 */
export function createLogger(name: string, level: string = 'info'): Logger {
  return pino({ name, level, base: { name, pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything (for tests and library use). */
export const silentLogger: Logger = pino({ level: 'silent' });
