// Installed modules of a node, SAFEVAR/resource.db (spec §1.3): name, id, mode, configuration date and
// signature, last known state, and a history of install/config/state events (`safekit module list`,
// `listid`, `cluster state`, `confinfo`).
//
// The module id decides the module's ports and must be the same on every node (spec §1.1), hence the
// precise errors on a duplicate id rather than a silent renumbering.
import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import { inTransaction, openStoreDatabase } from "./sqlite_database.ts";
import { type PruneLimits, RowPruner } from "./row_pruner.ts";
import { epochMsToMicros, microsToEpochMs } from "./store_time.ts";
import { requireField, requireLimit } from "./bounded_text.ts";
import { invalidInput, StoreError } from "./store_error.ts";

export type ModuleMode = "mirror" | "farm" | "light";
export const MODULE_MODES: readonly ModuleMode[] = ["mirror", "farm", "light"];

export type InstalledModule = {
  readonly name: string;
  readonly id: number;
  readonly mode: ModuleMode;
  readonly installedAt: number;
  /** Absent while NOT CONFIGURED. */
  readonly configuredAt?: number;
  readonly signature?: string;
  /** Last known state, e.g. "STOP NotReady", as the daemon reports it. */
  readonly state?: string;
};

export type ModuleEventKind = "installed" | "configured" | "deconfigured" | "uninstalled" | "state";

export type ModuleEvent = {
  readonly id: number;
  readonly at: number;
  readonly module: string;
  readonly moduleId: number;
  readonly event: ModuleEventKind;
  /** installed: the mode; configured: the signature; state: the new state; else "". */
  readonly detail: string;
};

export const MODULE_HISTORY_DEFAULT_MAX_ROWS = 10_000;
const MAX_MODULE_ID = 0x7fff_ffff;
const MAX_SIGNATURE = 256;
const MAX_STATE = 64;
const MODULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

const SCHEMA = {
  name: "module registry",
  migrations: [
    `CREATE TABLE module (
       name TEXT PRIMARY KEY,
       id INTEGER NOT NULL UNIQUE CHECK (id >= 1),
       mode TEXT NOT NULL CHECK (mode IN ('mirror','farm','light')),
       installed_at_us INTEGER NOT NULL,
       configured_at_us INTEGER,
       signature TEXT,
       state TEXT) WITHOUT ROWID;
     CREATE TABLE module_history (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       at_us INTEGER NOT NULL,
       module TEXT NOT NULL,
       module_id INTEGER NOT NULL,
       event TEXT NOT NULL,
       detail TEXT NOT NULL DEFAULT '');
     CREATE INDEX module_history_module_id ON module_history (module, id);`,
  ],
};

const COLUMNS = "name, id, mode, installed_at_us, configured_at_us, signature, state";

export class ModuleRegistry {
  readonly #db: DatabaseSync;
  readonly #pruner: RowPruner;

  constructor(readonly path: string, historyLimits: Partial<PruneLimits> = {}) {
    this.#db = openStoreDatabase(path, SCHEMA);
    try {
      this.#pruner = new RowPruner(this.#db, "module_history", {
        maxRows: MODULE_HISTORY_DEFAULT_MAX_ROWS,
        ...historyLimits,
      });
      this.#pruner.prune();
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Registers a module; without `id`, takes the lowest free id (as `module install` without -M). */
  install(module: { name: string; id?: number; mode: ModuleMode; at: number }): InstalledModule {
    const name = requireModuleName(module.name);
    const mode = requireMode(module.mode);
    const atUs = epochMsToMicros(module.at, `module ${name}: at`);
    if (module.id !== undefined) requireModuleId(module.id);
    const installed = inTransaction(this.#db, () => {
      const existing = this.#row("name = ?", name);
      if (existing !== undefined) {
        throw new StoreError(
          "duplicate-module-name",
          `cannot install module '${name}': a module with this name is already installed (id ${existing.id}); ` +
            `uninstall it first or choose another name`,
        );
      }
      const id = module.id ?? this.nextFreeId();
      const holder = this.#row("id = ?", id);
      if (holder !== undefined) {
        throw new StoreError(
          "duplicate-module-id",
          `cannot install module '${name}' with id ${id}: id ${id} is already used by module '${holder.name}' ` +
            `(the next free id is ${this.nextFreeId()})`,
        );
      }
      this.#db.prepare("INSERT INTO module (name, id, mode, installed_at_us) VALUES (?, ?, ?, ?)")
        .run(name, id, mode, atUs);
      this.#event(atUs, name, id, "installed", mode);
      return this.#row("name = ?", name)!;
    });
    this.#pruner.noteInsert();
    return installed;
  }

  configure(name: string, config: { at: number; signature: string }): InstalledModule {
    const signature = requireField(config.signature, `module ${name}: signature`, MAX_SIGNATURE);
    return this.#update(name, config.at, "configured", signature, (atUs) => [
      "configured_at_us = ?, signature = ?",
      [atUs, signature],
    ]);
  }

  /** Back to NOT CONFIGURED. */
  deconfigure(name: string, change: { at: number }): InstalledModule {
    return this.#update(name, change.at, "deconfigured", "", () => [
      "configured_at_us = NULL, signature = NULL",
      [],
    ]);
  }

  /** Records the module's state; a history event is written only when it differs from the last one. */
  setState(name: string, state: string, change: { at: number }): { changed: boolean } {
    const checked = requireField(state, `module ${name}: state`, MAX_STATE);
    let changed = false;
    this.#update(name, change.at, "state", checked, () => ["state = ?", [checked]], (existing) => {
      changed = existing.state !== checked;
      return changed;
    });
    return { changed };
  }

  uninstall(name: string, change: { at: number }): InstalledModule {
    const atUs = epochMsToMicros(change.at, `module ${name}: at`);
    const removed = inTransaction(this.#db, () => {
      const existing = this.require(name);
      this.#db.prepare("DELETE FROM module WHERE name = ?").run(existing.name);
      this.#event(atUs, existing.name, existing.id, "uninstalled", "");
      return existing;
    });
    this.#pruner.noteInsert();
    return removed;
  }

  get(name: string): InstalledModule | undefined {
    return this.#row("name = ?", requireModuleName(name));
  }

  getById(id: number): InstalledModule | undefined {
    return this.#row("id = ?", requireModuleId(id));
  }

  /** Throws "module-not-installed" with the installed names when absent. */
  require(name: string): InstalledModule {
    const found = this.get(name);
    if (found !== undefined) return found;
    const names = this.list().map((m) => m.name);
    throw new StoreError(
      "module-not-installed",
      `module '${name}' is not installed` +
        (names.length === 0 ? " (no module is installed)" : ` (installed: ${names.join(", ")})`),
    );
  }

  /** Installed modules sorted by id. */
  list(): InstalledModule[] {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM module ORDER BY id`).all().map(toModule);
  }

  /** The lowest id >= 1 that no installed module uses. */
  nextFreeId(): number {
    const row = this.#db.prepare(
      `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM module WHERE id = 1) THEN 1
              ELSE (SELECT min(m.id) + 1 FROM module m WHERE NOT EXISTS (SELECT 1 FROM module n WHERE n.id = m.id + 1))
              END AS id`,
    ).get();
    return Number(row?.id);
  }

  /** The newest `last` events (default 100), oldest first; of one module when `module` is given. */
  history(options: { readonly module?: string; readonly last?: number } = {}): ModuleEvent[] {
    const last = requireLimit(options.last ?? 100, "module history 'last'");
    const rows = options.module === undefined
      ? this.#db.prepare("SELECT * FROM module_history ORDER BY id DESC LIMIT ?").all(last)
      : this.#db.prepare("SELECT * FROM module_history WHERE module = ? ORDER BY id DESC LIMIT ?")
        .all(requireModuleName(options.module), last);
    return rows.map((r) => ({
      id: Number(r.id),
      at: microsToEpochMs(Number(r.at_us)),
      module: String(r.module),
      moduleId: Number(r.module_id),
      event: r.event as ModuleEventKind,
      detail: String(r.detail),
    })).reverse();
  }

  prune(): number {
    return this.#pruner.prune();
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #update(
    name: string,
    at: number,
    event: ModuleEventKind,
    detail: string,
    set: (atUs: number) => [string, (string | number)[]],
    /** Decides, inside the transaction, whether to write at all (default: always). */
    shouldWrite: (existing: InstalledModule) => boolean = () => true,
  ): InstalledModule {
    const atUs = epochMsToMicros(at, `module ${name}: at`);
    const updated = inTransaction(this.#db, () => {
      const existing = this.require(name);
      if (!shouldWrite(existing)) return existing;
      const [assignments, values] = set(atUs);
      this.#db.prepare(`UPDATE module SET ${assignments} WHERE name = ?`).run(...values, existing.name);
      this.#event(atUs, existing.name, existing.id, event, detail);
      return this.#row("name = ?", existing.name)!;
    });
    this.#pruner.noteInsert();
    return updated;
  }

  #event(atUs: number, module: string, moduleId: number, event: ModuleEventKind, detail: string): void {
    this.#db.prepare(
      "INSERT INTO module_history (at_us, module, module_id, event, detail) VALUES (?, ?, ?, ?, ?)",
    )
      .run(atUs, module, moduleId, event, detail);
  }

  #row(where: "name = ?" | "id = ?", key: string | number): InstalledModule | undefined {
    const row = this.#db.prepare(`SELECT ${COLUMNS} FROM module WHERE ${where}`).get(key);
    return row === undefined ? undefined : toModule(row);
  }
}

function requireModuleName(name: unknown): string {
  if (typeof name !== "string" || !MODULE_NAME.test(name)) {
    throw invalidInput(
      `invalid module name ${JSON.stringify(name)} (expected 1 to 64 letters, digits, '_', '.', '-', ` +
        `not starting with '.' or '-')`,
    );
  }
  return name;
}

function requireModuleId(id: unknown): number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1 || id > MAX_MODULE_ID) {
    throw invalidInput(`invalid module id ${String(id)} (expected an integer >= 1)`);
  }
  return id;
}

function requireMode(mode: unknown): ModuleMode {
  if (!MODULE_MODES.includes(mode as ModuleMode)) {
    throw invalidInput(
      `invalid module mode ${JSON.stringify(mode)} (expected one of ${MODULE_MODES.join(", ")})`,
    );
  }
  return mode as ModuleMode;
}

function toModule(r: Record<string, SQLOutputValue>): InstalledModule {
  return {
    name: String(r.name),
    id: Number(r.id),
    mode: r.mode as ModuleMode,
    installedAt: microsToEpochMs(Number(r.installed_at_us)),
    ...(r.configured_at_us === null ? {} : { configuredAt: microsToEpochMs(Number(r.configured_at_us)) }),
    ...(r.signature === null ? {} : { signature: String(r.signature) }),
    ...(r.state === null ? {} : { state: String(r.state) }),
  };
}
