// Keeps an append-only table bounded. Ids come from AUTOINCREMENT, so they only grow and the newest
// `maxRows` rows are exactly those with id > max(id) - maxRows: one indexed DELETE, no COUNT(*) scan.
// Pruning runs every `every` inserts of this handle (and once at open, so a lowered limit applies at
// once); between two prunes a table holds at most maxRows + every - 1 rows.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { invalidInput } from "./store_error.ts";

export type PruneLimits = {
  /** Rows kept after a prune. */
  readonly maxRows: number;
  /** Prune after this many inserts by this handle. Default: maxRows / 10, capped at 1000, at least 1. */
  readonly pruneEvery?: number;
};

export class RowPruner {
  readonly #delete: StatementSync;
  readonly #maxRows: number;
  readonly #every: number;
  #sinceLastPrune = 0;

  constructor(db: DatabaseSync, table: string, limits: PruneLimits) {
    const { maxRows } = limits;
    if (!Number.isSafeInteger(maxRows) || maxRows < 1) {
      throw invalidInput(`${table}: maxRows must be an integer >= 1, found ${String(maxRows)}`);
    }
    const every = limits.pruneEvery ?? Math.max(1, Math.min(1000, Math.floor(maxRows / 10)));
    if (!Number.isSafeInteger(every) || every < 1) {
      throw invalidInput(`${table}: pruneEvery must be an integer >= 1, found ${String(every)}`);
    }
    this.#maxRows = maxRows;
    this.#every = every;
    this.#delete = db.prepare(`DELETE FROM ${table} WHERE id <= (SELECT max(id) FROM ${table}) - ?`);
  }

  /** Call after each committed insert. */
  noteInsert(): void {
    if (++this.#sinceLastPrune >= this.#every) this.prune();
  }

  /** Deletes all but the newest maxRows rows; returns how many were deleted. */
  prune(): number {
    this.#sinceLastPrune = 0;
    return Number(this.#delete.run(this.#maxRows).changes);
  }
}
