// Module resources, SAFEVAR/modules/AM/resource.db (spec §2.1, §3.3): the inputs of the failover
// machine (`safekit get|set -r`, `safekit state -v`). Every assignment is kept in a bounded history,
// as SafeKit does since 7.5; the current table holds the last assignment of each resource, whose date
// is the one displayed.
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import { inTransaction, openStoreDatabase } from "./sqlite_database.ts";
import { type PruneLimits, RowPruner } from "./row_pruner.ts";
import { epochMsToMicros, microsToEpochMs } from "./store_time.ts";
import { requireField, requireLimit, requireSingleLine } from "./bounded_text.ts";
import { validateResourceName } from "./resource_name.ts";

/** The states of the failover machine; some resources hold other values (numbers, dates, percentages). */
export type ResourceState = "init" | "up" | "down" | "unknown";
// `(string & {})` keeps editor completion for the states while accepting any string.
// deno-lint-ignore ban-types
export type ResourceValue = ResourceState | (string & {});

export type ResourceAssignment = {
  /** Epoch milliseconds of the assignment. */
  readonly at: number;
  /** Who assigned it: a component (heart, pingcheck) or an identity given with `-i`. */
  readonly by: string;
};

export type ResourceRecord = {
  readonly name: string;
  readonly value: ResourceValue;
  /** Last assignment (the date `safekit state -v` shows). */
  readonly at: number;
  readonly by: string;
  /** Last assignment that changed the value. */
  readonly changedAt: number;
};

export type ResourceHistoryRow = {
  readonly id: number;
  readonly name: string;
  readonly value: ResourceValue;
  readonly at: number;
  readonly by: string;
};

export const RESOURCE_HISTORY_DEFAULT_MAX_ROWS = 50_000;
const MAX_VALUE = 1024;
const MAX_BY = 128;

const SCHEMA = {
  name: "resource store",
  migrations: [
    `CREATE TABLE resource (
       name TEXT PRIMARY KEY,
       value TEXT NOT NULL,
       at_us INTEGER NOT NULL,
       set_by TEXT NOT NULL,
       changed_at_us INTEGER NOT NULL) WITHOUT ROWID;
     CREATE TABLE resource_history (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       name TEXT NOT NULL,
       value TEXT NOT NULL,
       at_us INTEGER NOT NULL,
       set_by TEXT NOT NULL);
     CREATE INDEX resource_history_name_id ON resource_history (name, id);`,
  ],
};

export class ResourceStore {
  readonly #db: DatabaseSync;
  readonly #select: StatementSync;
  readonly #insertHistory: StatementSync;
  readonly #upsert: StatementSync;
  readonly #pruner: RowPruner;

  constructor(readonly path: string, historyLimits: Partial<PruneLimits> = {}) {
    this.#db = openStoreDatabase(path, SCHEMA);
    try {
      this.#select = this.#db.prepare(
        "SELECT name, value, at_us, set_by, changed_at_us FROM resource WHERE name = ?",
      );
      this.#insertHistory = this.#db.prepare(
        "INSERT INTO resource_history (name, value, at_us, set_by) VALUES (?, ?, ?, ?)",
      );
      this.#upsert = this.#db.prepare(
        `INSERT INTO resource (name, value, at_us, set_by, changed_at_us) VALUES (?1, ?2, ?3, ?4, ?3)
         ON CONFLICT (name) DO UPDATE SET
           changed_at_us = CASE WHEN value = excluded.value THEN changed_at_us ELSE excluded.at_us END,
           value = excluded.value, at_us = excluded.at_us, set_by = excluded.set_by`,
      );
      this.#pruner = new RowPruner(this.#db, "resource_history", {
        maxRows: RESOURCE_HISTORY_DEFAULT_MAX_ROWS,
        ...historyLimits,
      });
      this.#pruner.prune();
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Assigns a value; `changed` is false when the resource already held it (the assignment is still
   * recorded, and its date becomes the displayed one). */
  set(name: string, value: ResourceValue, assignment: ResourceAssignment): { changed: boolean } {
    validateResourceName(name);
    requireSingleLine(value, `resource ${name}: value`, MAX_VALUE);
    const atUs = epochMsToMicros(assignment.at, `resource ${name}: at`);
    const by = requireField(assignment.by, `resource ${name}: by`, MAX_BY);
    const changed = inTransaction(this.#db, () => {
      const previous = this.#select.get(name);
      this.#insertHistory.run(name, value, atUs, by);
      this.#upsert.run(name, value, atUs, by);
      return previous === undefined || previous.value !== value;
    });
    this.#pruner.noteInsert();
    return { changed };
  }

  get(name: string): ResourceRecord | undefined {
    validateResourceName(name);
    const row = this.#select.get(name);
    return row === undefined ? undefined : toRecord(row);
  }

  /** Current values, sorted by name. */
  list(): ResourceRecord[] {
    return this.#db
      .prepare("SELECT name, value, at_us, set_by, changed_at_us FROM resource ORDER BY name")
      .all()
      .map(toRecord);
  }

  /** The newest `limit` assignments of a resource, oldest first. */
  history(name: string, limit = 100): ResourceHistoryRow[] {
    validateResourceName(name);
    return this.#db
      .prepare(
        "SELECT id, name, value, at_us, set_by FROM resource_history WHERE name = ? ORDER BY id DESC LIMIT ?",
      )
      .all(name, requireLimit(limit, "resource history limit"))
      .map((r) => ({
        id: Number(r.id),
        name: String(r.name),
        value: String(r.value),
        at: microsToEpochMs(Number(r.at_us)),
        by: String(r.set_by),
      }))
      .reverse();
  }

  /** Forgets a resource's current value (e.g. its checker was removed by a reconfiguration); its history
   * stays. Returns whether it existed. */
  remove(name: string): boolean {
    validateResourceName(name);
    return Number(this.#db.prepare("DELETE FROM resource WHERE name = ?").run(name).changes) > 0;
  }

  historyCount(): number {
    return Number(this.#db.prepare("SELECT count(*) AS n FROM resource_history").get()?.n ?? 0);
  }

  prune(): number {
    return this.#pruner.prune();
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function toRecord(r: Record<string, SQLOutputValue>): ResourceRecord {
  return {
    name: String(r.name),
    value: String(r.value),
    at: microsToEpochMs(Number(r.at_us)),
    by: String(r.set_by),
    changedAt: microsToEpochMs(Number(r.changed_at_us)),
  };
}
