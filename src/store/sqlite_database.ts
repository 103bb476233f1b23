// Opens a store's SQLite file the same way everywhere: WAL, busy timeout, NORMAL sync, and a schema
// versioned with PRAGMA user_version.
//
// Why the retries: switching to WAL does not honour busy_timeout, so when two processes create the
// same new file at once (the daemon and a `safekit set` started by a checker), one of them gets
// "database is locked" (deno-stack-verification.md §5). WAL mode persists in the file, so it is set
// only when the file is not in WAL yet, and retried. Why NORMAL: in WAL mode a crash can lose the last
// commits before a checkpoint but never corrupts the file; the command log does not need more.
import { DatabaseSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "./store_error.ts";

export type StoreSchema = {
  /** Shown in errors: "module log", "command log"... */
  readonly name: string;
  /** migrations[i] brings the schema from version i to i+1; the current version is migrations.length. */
  readonly migrations: readonly string[];
};

const BUSY_TIMEOUT_MS = 10_000;
const LOCKED_RETRY_FOR_MS = 10_000;

export function openStoreDatabase(path: string, schema: StoreSchema): DatabaseSync {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    retryWhileLocked(`${schema.name} (${path}): enabling WAL`, () => {
      const mode = db.prepare("PRAGMA journal_mode").get()?.journal_mode;
      if (mode !== "wal" && path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    });
    db.exec("PRAGMA synchronous = NORMAL");
    retryWhileLocked(`${schema.name} (${path}): creating the schema`, () => migrate(db, path, schema));
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: DatabaseSync, path: string, schema: StoreSchema): void {
  const latest = schema.migrations.length;
  // Checked outside a transaction first, so that the common case (schema current) takes no write lock.
  if (userVersion(db) === latest) return;
  inTransaction(db, () => {
    const version = userVersion(db);
    if (version > latest) {
      throw new StoreError(
        "schema-too-new",
        `${schema.name} ${path}: schema version ${version} was written by a newer safekit ` +
          `(this one knows versions up to ${latest}); upgrade safekit or move the file away`,
      );
    }
    for (let v = version; v < latest; v++) db.exec(schema.migrations[v]);
    db.exec(`PRAGMA user_version = ${latest}`);
  });
}

function userVersion(db: DatabaseSync): number {
  return Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
}

/** Runs fn in BEGIN IMMEDIATE ... COMMIT: the write lock is taken up front, so busy_timeout applies. */
export function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

export function isLockedError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /database is locked|SQLITE_BUSY/i.test(message);
}

function retryWhileLocked(what: string, fn: () => void): void {
  const deadline = Date.now() + LOCKED_RETRY_FOR_MS;
  for (let delay = 5;; delay = Math.min(delay * 2, 200)) {
    try {
      return fn();
    } catch (error) {
      if (!isLockedError(error)) throw error;
      if (Date.now() >= deadline) {
        throw new StoreError(
          "database-locked",
          `${what}: database still locked after ${LOCKED_RETRY_FOR_MS} ms`,
        );
      }
      sleepSync(delay);
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
