// The module log, SAFEVAR/modules/AM/log.db (spec §10.1): what `safekit log`, `logview`, `printi`,
// `printe` and the console's log tab read and write.
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import { openStoreDatabase } from "./sqlite_database.ts";
import { type PruneLimits, RowPruner } from "./row_pruner.ts";
import { epochMsToMicros, microsToEpochMs } from "./store_time.ts";
import { requireField, requireLimit, requireText } from "./bounded_text.ts";
import { invalidInput } from "./store_error.ts";
import { formatLogTimestamp, type LogTimeZone } from "./log_timestamp.ts";
import { formatRawLine } from "./raw_line_format.ts";

/** U user action, E event, C critical, S script, I information, D debug (spec §10.1). */
export type LogLevel = "U" | "E" | "C" | "S" | "I" | "D";
export const LOG_LEVELS: readonly LogLevel[] = ["U", "E", "C", "S", "I", "D"];
/** The non-verbose view (`safekit log` without -A). */
export const NON_VERBOSE_LEVELS: readonly LogLevel[] = ["U", "E", "C", "S"];

export type ModuleLogEntry = {
  /** Epoch milliseconds; a fractional part is kept down to the microsecond. */
  readonly at: number;
  /** heart, errd, reintegre, pingcheck... (no '|'; may be empty). */
  readonly component: string;
  readonly level: LogLevel;
  readonly message: string;
};

export type ModuleLogRow = ModuleLogEntry & { readonly id: number };

export type ModuleLogFilter = {
  /** true = all levels (`-A`); false = U, E, C, S. Ignored when `levels` is given. */
  readonly verbose: boolean;
  /** An explicit level set, e.g. logview's default ["E"] or ["E", "I"] with -I. */
  readonly levels?: readonly LogLevel[];
  /** Case-insensitive (ASCII) substring of the message or the component. */
  readonly search?: string;
};

export type ModuleLogQuery = ModuleLogFilter & {
  /** How many of the newest matching rows (default 300, as `safekit log -s`). */
  readonly last?: number;
  /** Only rows with a greater id. */
  readonly sinceId?: number;
};

export const MODULE_LOG_DEFAULT_MAX_ROWS = 100_000;
const DEFAULT_LAST = 300;
const MAX_COMPONENT = 64;
const MAX_MESSAGE = 16_384;
const MAX_SEARCH = 256;

const SCHEMA = {
  name: "module log",
  migrations: [
    `CREATE TABLE log (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       at_us INTEGER NOT NULL,
       component TEXT NOT NULL,
       level TEXT NOT NULL CHECK (level IN ('U','E','C','S','I','D')),
       message TEXT NOT NULL);
     CREATE INDEX log_level_id ON log (level, id);`,
  ],
};

export class ModuleLog {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #pruner: RowPruner;

  constructor(readonly path: string, limits: Partial<PruneLimits> = {}) {
    this.#db = openStoreDatabase(path, SCHEMA);
    try {
      this.#insert = this.#db.prepare(
        "INSERT INTO log (at_us, component, level, message) VALUES (?, ?, ?, ?)",
      );
      this.#pruner = new RowPruner(this.#db, "log", { maxRows: MODULE_LOG_DEFAULT_MAX_ROWS, ...limits });
      this.#pruner.prune();
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Appends one message; returns its id. */
  append(entry: ModuleLogEntry): number {
    const atUs = epochMsToMicros(entry.at);
    const component = requireField(entry.component, "log component", MAX_COMPONENT);
    const level = requireLevel(entry.level);
    const message = requireText(entry.message, "log message", MAX_MESSAGE);
    const id = Number(this.#insert.run(atUs, component, level, message).lastInsertRowid);
    this.#pruner.noteInsert();
    return id;
  }

  /** The newest `last` matching rows, oldest first. */
  query(query: ModuleLogQuery): ModuleLogRow[] {
    const last = requireLimit(query.last ?? DEFAULT_LAST, "log query 'last'");
    const { where, params } = filterSql(query, query.sinceId ?? 0);
    const rows = this.#db
      .prepare(`SELECT id, at_us, component, level, message FROM log WHERE ${where} ORDER BY id DESC LIMIT ?`)
      .all(...params, last);
    return rows.map(toRow).reverse();
  }

  /** The first `limit` matching rows with id > afterId, oldest first: the step of a follower. */
  readAfter(afterId: number, filter: ModuleLogFilter, limit = 1000): ModuleLogRow[] {
    const { where, params } = filterSql(filter, afterId);
    return this.#db
      .prepare(`SELECT id, at_us, component, level, message FROM log WHERE ${where} ORDER BY id ASC LIMIT ?`)
      .all(...params, requireLimit(limit, "log read limit"))
      .map(toRow);
  }

  /** The greatest id written so far (0 for an empty log): where a follower starts to see only new rows. */
  lastId(): number {
    return Number(this.#db.prepare("SELECT max(id) AS id FROM log").get()?.id ?? 0);
  }

  count(): number {
    return Number(this.#db.prepare("SELECT count(*) AS n FROM log").get()?.n ?? 0);
  }

  /** Drops all but the newest maxRows rows now (done automatically every pruneEvery appends). */
  prune(): number {
    return this.#pruner.prune();
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

/** `| 2021-08-06 08:40:20.909224 | reintegre | E | message` (spec §10.1). */
export function formatLogLine(row: ModuleLogEntry, zone: LogTimeZone = "local"): string {
  return formatRawLine([formatLogTimestamp(row.at, zone), row.component, row.level, row.message]);
}

function requireLevel(level: unknown): LogLevel {
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw invalidInput(
      `log level: invalid value ${JSON.stringify(level)} (expected one of ${LOG_LEVELS.join(", ")})`,
    );
  }
  return level as LogLevel;
}

function filterSql(filter: ModuleLogFilter, afterId: number): { where: string; params: (string | number)[] } {
  const levels = filter.levels ?? (filter.verbose ? LOG_LEVELS : NON_VERBOSE_LEVELS);
  levels.forEach(requireLevel);
  const clauses = [`id > ?`, `level IN (${levels.map(() => "?").join(",") || "NULL"})`];
  const params: (string | number)[] = [requireLimit(afterId, "log query 'sinceId'"), ...levels];
  if (filter.search !== undefined && filter.search !== "") {
    const search = requireText(filter.search, "log search", MAX_SEARCH).toLowerCase();
    clauses.push("(instr(lower(message), ?) > 0 OR instr(lower(component), ?) > 0)");
    params.push(search, search);
  }
  return { where: clauses.join(" AND "), params };
}

function toRow(r: Record<string, SQLOutputValue>): ModuleLogRow {
  return {
    id: Number(r.id),
    at: microsToEpochMs(Number(r.at_us)),
    component: String(r.component),
    level: r.level as LogLevel,
    message: String(r.message),
  };
}
