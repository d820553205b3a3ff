import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile } from './private-fs.js';

export type Db = Database.Database;

/** How much of a database file a read-only connection maps (1 GiB; stores are far smaller). */
const READER_MMAP_BYTES = 1024 ** 3;

/** A numbered schema change. Shipped migrations are never edited: add a new one. */
export interface Migration {
  version: number;
  name: string;
  up: string | ((db: Db) => void);
}

export interface OpenOptions {
  readonly?: boolean;
  migrations?: readonly Migration[];
}

/**
 * Open a SQLite file with the pragmas every Colony store wants (WAL so readers never block
 * the writer, NORMAL sync which is durable across process crashes in WAL mode) and apply
 * pending migrations in one transaction each.
 */
export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  const onDisk = path !== ':memory:' && !opts.readonly;
  if (onDisk) {
    // Every Colony database holds what agents and colonies shared: owner-only, journal too.
    ensurePrivateDirFor(path);
    ensurePrivateFile(path, [`${path}-wal`, `${path}-shm`]);
  }
  const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  // Readers (the memory workers, one connection each) map the file instead of copying pages
  // into a private cache per connection: one copy in the OS page cache, no read() per page.
  if (opts.readonly) db.pragma(`mmap_size = ${READER_MMAP_BYTES}`);
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  }
  if (opts.migrations) migrate(db, opts.migrations);
  return db;
}

/** A missing parent directory is created owner-only; an existing one is left as it is. */
function ensurePrivateDirFor(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) ensurePrivateDir(dir);
}

export function migrate(db: Db, migrations: readonly Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.version === sorted[i - 1]!.version) {
      throw new Error(`duplicate migration version ${sorted[i]!.version}`);
    }
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of sorted) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      record.run(m.version, m.name, Date.now());
    })();
  }
}

/**
 * Move WAL checkpoints off the write path: SQLite's automatic checkpoint runs inside
 * whichever commit crosses the threshold and fsyncs there, which is what a p99 of cheap
 * writes sees. Instead checkpoint passively on a timer. Returns the function that stops it.
 */
export function checkpointOnTimer(db: Db, everyMs = 2000): () => void {
  db.pragma('wal_autocheckpoint = 0');
  const timer = setInterval(() => {
    if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
  };
}
