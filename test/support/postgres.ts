/**
 * A throwaway PostgreSQL for tests and benchmarks.
 *
 *   PG_URL set?  ──yes──> CREATE DATABASE furrow_t_<random> on that server; stop() drops it
 *        │no
 *        v
 *   initdb (temp dir, trust auth) → pg_ctl start on 127.0.0.1:<free port> → stop() = pg_ctl stop + rm -rf
 *
 * The server binaries come from /usr/lib/postgresql/<highest version>/bin (Debian layout) or PATH.
 * PostgreSQL refuses to run as root, so when the test runs as root every server command runs as the
 * `postgres` user (runuser) and the temp directory is handed to that user.
 * The cluster is tuned for tests (fsync off): a killed *client* or a clean server restart is what the
 * tests exercise, never a crashed host. A process exit handler stops the cluster if a test dies before calling stop().
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://user@127.0.0.1:port/db, ready for `pg` and `psql`. */
  readonly url: string;
  readonly port: number;
  /** True when this helper owns the server (it can be restarted); false with PG_URL. */
  readonly local: boolean;
  /**
   * Stops the server and starts it again on the same port and data (simulates a PostgreSQL restart).
   * `downMs` keeps it down for that long. Only for a local server; throws with PG_URL.
   */
  restart(downMs?: number): Promise<void>;
  /** Stops the server (or drops the database with PG_URL) and removes the temp directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

/** Directory holding initdb/pg_ctl, or null when PostgreSQL is not installed. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0]!, 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim() !== '') return join(which.stdout.trim(), '..');
  return null;
}

/** Path of a psql client (server bin dir first, then PATH). */
export function findPsql(): string {
  const bin = findPostgresBin();
  if (bin !== null && existsSync(join(bin, 'psql'))) return join(bin, 'psql');
  return 'psql';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as `postgres` when we are root. Throws with its output on failure. */
function runAsServerUser(bin: string, args: string[]): string {
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

function randomSuffix(): string {
  return `${process.pid}_${Math.floor(Math.random() * 1e9).toString(36)}`;
}

async function startFromUrl(baseUrl: string): Promise<TestPostgres> {
  const dbName = `furrow_t_${randomSuffix()}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await admin.end();
  }
  const u = new URL(baseUrl);
  u.pathname = `/${dbName}`;
  let stopped = false;
  return {
    url: u.toString(),
    port: Number(u.port || 5432),
    local: false,
    async restart() {
      throw new Error('restart() needs a local test cluster; unset PG_URL to run this test');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch (err) {
      lastErr = err;
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`PostgreSQL at ${url} not ready after ${timeoutMs} ms: ${String(lastErr)}`);
}

/**
 * Starts a throwaway PostgreSQL (or a fresh database on PG_URL) and returns its URL and stop().
 * Always call stop() (e.g. in t.teardown).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  // The one place tests read the environment: PG_URL points at an existing server (CI services).
  const envUrl = process.env['PG_URL'];
  if (envUrl !== undefined && envUrl !== '') return startFromUrl(envUrl);

  const bin = findPostgresBin();
  if (bin === null) {
    throw new Error('PostgreSQL server binaries not found (install Debian\'s `postgresql` or set PG_URL)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'furrow-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  runAsServerUser(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-locale']);

  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: '100',
    shared_buffers: '128MB',
    ...options.settings,
  };
  let port = 0;
  const pgCtl = join(bin, 'pg_ctl');
  const startServer = (): void => {
    const opts = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
    runAsServerUser(pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', opts]);
  };
  // A free port can be taken between probe and bind; retry a few times.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort();
    try {
      startServer();
      lastErr = undefined;
      break;
    } catch (err) {
      lastErr = err;
    }
  }
  if (lastErr !== undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw lastErr;
  }

  let running = true;
  // 'fast' = a clean restart (connections are terminated, committed work is kept); 'immediate' at teardown.
  const stopServer = (mode: 'fast' | 'immediate' = 'immediate'): void => {
    if (!running) return;
    running = false;
    try {
      runAsServerUser(pgCtl, ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '30']);
    } catch {
      // already gone
    }
  };
  const onExit = (): void => {
    stopServer();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitReady(url, 30_000);
  let stopped = false;
  return {
    url,
    port,
    local: true,
    async restart(downMs = 0) {
      stopServer('fast');
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      startServer();
      running = true;
      await waitReady(url, 30_000);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      onExit();
    },
  };
}
