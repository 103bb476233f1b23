// The command log, SAFEVAR/log.db (spec §10.3, `safekit cmdlog`): one START row when a command that
// modifies the system begins, one END row with its exit code, and I rows for events in between
// (cluster state updates...).
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import { openStoreDatabase } from "./sqlite_database.ts";
import { type PruneLimits, RowPruner } from "./row_pruner.ts";
import { epochMsToMicros, microsToEpochMs } from "./store_time.ts";
import { requireField, requireLimit } from "./bounded_text.ts";
import { invalidInput, StoreError } from "./store_error.ts";
import { formatLogTimestamp, type LogTimeZone } from "./log_timestamp.ts";
import { formatRawLine } from "./raw_line_format.ts";

/** "safekit" (a CLI command), "cluster" (cluster events), "webserver"... */
// deno-lint-ignore ban-types
export type CommandAction = "safekit" | "cluster" | (string & {});

export type CommandStart = {
  readonly at: number;
  readonly action: CommandAction;
  readonly module?: string;
  readonly pid: number;
  /** The command's arguments as typed: `prim -m mirror`. */
  readonly args: string;
  /** Console-issued commands carry `-u user@address` (spec §10.3). */
  readonly user?: string;
  readonly address?: string;
};

export type CommandInfo = {
  readonly at: number;
  readonly action: CommandAction;
  readonly module?: string;
  /** 0 when no process is behind the event (spec §10.3 example). */
  readonly pid?: number;
  readonly message: string;
};

export type CommandLogRow =
  | {
    readonly kind: "START";
    readonly id: number;
    readonly at: number;
    readonly action: string;
    readonly module: string;
    readonly pid: number;
    readonly args: string;
    readonly user?: string;
    readonly address?: string;
  }
  | {
    readonly kind: "END";
    readonly id: number;
    readonly at: number;
    readonly pid: number;
    readonly code: number;
    /** The START row this ends, when known. */
    readonly startId?: number;
  }
  | {
    readonly kind: "I";
    readonly id: number;
    readonly at: number;
    readonly action: string;
    readonly module: string;
    readonly pid: number;
    readonly message: string;
  };

export const COMMAND_LOG_DEFAULT_MAX_ROWS = 50_000;
const MAX_ACTION = 32;
const MAX_MODULE = 128;
const MAX_ARGS = 4096;
const MAX_USER = 256;

const SCHEMA = {
  name: "command log",
  migrations: [
    `CREATE TABLE command (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       at_us INTEGER NOT NULL,
       kind TEXT NOT NULL CHECK (kind IN ('START','END','I')),
       action TEXT NOT NULL DEFAULT '',
       module TEXT NOT NULL DEFAULT '',
       pid INTEGER NOT NULL,
       text TEXT NOT NULL DEFAULT '',
       code INTEGER,
       start_id INTEGER,
       user TEXT,
       address TEXT);
     CREATE INDEX command_pid_id ON command (pid, id);`,
  ],
};

const COLUMNS = "id, at_us, kind, action, module, pid, text, code, start_id, user, address";

export class CommandLog {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #pruner: RowPruner;

  constructor(readonly path: string, limits: Partial<PruneLimits> = {}) {
    this.#db = openStoreDatabase(path, SCHEMA);
    try {
      this.#insert = this.#db.prepare(
        `INSERT INTO command (at_us, kind, action, module, pid, text, code, start_id, user, address)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.#pruner = new RowPruner(this.#db, "command", { maxRows: COMMAND_LOG_DEFAULT_MAX_ROWS, ...limits });
      this.#pruner.prune();
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Records the start of a command; returns the id to pass to end(). */
  start(command: CommandStart): number {
    return this.#append(
      epochMsToMicros(command.at, "command start: at"),
      "START",
      requireField(command.action, "command action", MAX_ACTION),
      requireField(command.module ?? "", "command module", MAX_MODULE),
      requirePid(command.pid, 1),
      requireField(command.args, "command args", MAX_ARGS),
      null,
      null,
      command.user === undefined ? null : requireField(command.user, "command user", MAX_USER),
      command.address === undefined ? null : requireField(command.address, "command address", MAX_USER),
    );
  }

  /** Records the end of the command started as `startId`, with its exit code. */
  end(startId: number, outcome: { readonly at: number; readonly code: number }): number {
    const start = this.#db.prepare("SELECT pid FROM command WHERE id = ? AND kind = 'START'").get(startId);
    if (start === undefined) {
      throw new StoreError("unknown-command", `command log: no command started with id ${String(startId)}`);
    }
    return this.#appendEnd(Number(start.pid), startId, outcome);
  }

  /** Records the end of the latest command started by `pid`, for callers that only know the process. */
  endByPid(pid: number, outcome: { readonly at: number; readonly code: number }): number {
    const start = this.#db
      .prepare("SELECT id FROM command WHERE pid = ? AND kind = 'START' ORDER BY id DESC LIMIT 1")
      .get(requirePid(pid, 1));
    return this.#appendEnd(pid, start === undefined ? null : Number(start.id), outcome);
  }

  /** Records an event (`| cluster | mirror | 0 | I | update cluster state`). */
  info(event: CommandInfo): number {
    return this.#append(
      epochMsToMicros(event.at, "command info: at"),
      "I",
      requireField(event.action, "command action", MAX_ACTION),
      requireField(event.module ?? "", "command module", MAX_MODULE),
      requirePid(event.pid ?? 0, 0),
      requireField(event.message, "command info message", MAX_ARGS),
      null,
      null,
      null,
      null,
    );
  }

  /** The newest `last` rows (default 300), oldest first; with sinceId only rows after it. */
  list(options: { readonly last?: number; readonly sinceId?: number } = {}): CommandLogRow[] {
    return this.#db
      .prepare(`SELECT ${COLUMNS} FROM command WHERE id > ? ORDER BY id DESC LIMIT ?`)
      .all(
        requireLimit(options.sinceId ?? 0, "command log 'sinceId'"),
        requireLimit(options.last ?? 300, "command log 'last'"),
      )
      .map(toRow)
      .reverse();
  }

  count(): number {
    return Number(this.#db.prepare("SELECT count(*) AS n FROM command").get()?.n ?? 0);
  }

  prune(): number {
    return this.#pruner.prune();
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #appendEnd(pid: number, startId: number | null, outcome: { readonly at: number; readonly code: number }) {
    if (!Number.isSafeInteger(outcome.code)) {
      throw invalidInput(`command end: exit code must be an integer, found ${String(outcome.code)}`);
    }
    const atUs = epochMsToMicros(outcome.at, "command end: at");
    return this.#append(atUs, "END", "", "", pid, String(outcome.code), outcome.code, startId, null, null);
  }

  #append(
    ...values: [
      number,
      string,
      string,
      string,
      number,
      string,
      number | null,
      number | null,
      ...(string | null)[],
    ]
  ) {
    const id = Number(this.#insert.run(...values).lastInsertRowid);
    this.#pruner.noteInsert();
    return id;
  }
}

/** The raw `safekit cmdlog` line (spec §10.3), e.g.
 * `| 2021-07-27 14:38:05.092924 | safekit | mirror | 7017 | START | prim -m mirror -u admin@10.0.0.103`. */
export function formatCommandLogLine(row: CommandLogRow, zone: LogTimeZone = "local"): string {
  const at = formatLogTimestamp(row.at, zone);
  switch (row.kind) {
    case "START": {
      const who = [row.user, row.address].filter((part) => part !== undefined && part !== "").join("@");
      const args = who === "" ? row.args : `${row.args} -u ${who}`;
      return formatRawLine([at, row.action, row.module, String(row.pid), "START", args]);
    }
    case "END":
      return formatRawLine([at, "", "", String(row.pid), "END", String(row.code)]);
    case "I":
      return formatRawLine([at, row.action, row.module, String(row.pid), "I", row.message]);
  }
}

function requirePid(pid: unknown, min: number): number {
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid < min) {
    throw invalidInput(`command log: pid must be an integer >= ${min}, found ${String(pid)}`);
  }
  return pid;
}

function toRow(r: Record<string, SQLOutputValue>): CommandLogRow {
  const base = { id: Number(r.id), at: microsToEpochMs(Number(r.at_us)), pid: Number(r.pid) };
  switch (r.kind) {
    case "START":
      return {
        kind: "START",
        ...base,
        action: String(r.action),
        module: String(r.module),
        args: String(r.text),
        ...(r.user === null ? {} : { user: String(r.user) }),
        ...(r.address === null ? {} : { address: String(r.address) }),
      };
    case "END":
      return {
        kind: "END",
        ...base,
        code: Number(r.code),
        ...(r.start_id === null ? {} : { startId: Number(r.start_id) }),
      };
    default:
      return {
        kind: "I",
        ...base,
        action: String(r.action),
        module: String(r.module),
        message: String(r.text),
      };
  }
}
