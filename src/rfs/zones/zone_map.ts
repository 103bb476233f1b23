// The primary's record of what changed in one replicated directory since the secondary was last in sync
// (spec §7.2 case 2): per file, a bitmap of modified zones of `ruzone_blocksize` bytes, the lowest size it
// was truncated to, and a "whole" flag for entries the secondary cannot patch (created, renamed, linked,
// replaced); per directory, "everything below is new" for directories created, removed or renamed. Also a
// per-file change counter, which lets an interrupted reintegration skip files it already finished.
// Pure: fed with TreeOps, serialised by zone_store.ts.

import type { TreeOp } from "../tree_op.ts";
import { setZoneBits, zonesTouched } from "./zone_math.ts";

export type FileZones = {
  /** the secondary's copy of this name cannot be patched: copy the file whole */
  whole: boolean;
  /** lowest size the file was truncated to (everything from its zone on is copied); null if never */
  tailFrom: number | null;
  bits: Uint8Array;
  /** bumped on every change; an interrupted reintegration compares it to skip files already done */
  changes: number;
};

function splitParent(path: string): { parent: string; name: string } {
  const slash = path.lastIndexOf("/");
  return slash < 0
    ? { parent: ".", name: path }
    : { parent: path.slice(0, slash), name: path.slice(slash + 1) };
}

export class ZoneMap {
  /** parent directory path -> child name -> zones */
  readonly #byParent = new Map<string, Map<string, FileZones>>();
  /** directories under which every entry is new to the secondary */
  readonly #wholeDirs = new Set<string>();

  constructor(readonly zoneSize: number) {
    if (!Number.isSafeInteger(zoneSize) || zoneSize < 4096) {
      throw new RangeError(`ruzone_blocksize must be an integer >= 4096 (got ${zoneSize})`);
    }
  }

  get isEmpty(): boolean {
    return this.#byParent.size === 0 && this.#wholeDirs.size === 0;
  }

  clear(): void {
    this.#byParent.clear();
    this.#wholeDirs.clear();
  }

  /** Records the effect of one op applied to the primary's tree. */
  note(op: TreeOp): void {
    switch (op.kind) {
      case "write":
        return this.#zones(op.path, op.offset, op.data.length);
      case "fallocate":
        return this.#zones(op.path, op.offset, op.length);
      case "setattr":
        if (op.size !== undefined) {
          const e = this.#entry(op.path);
          e.tailFrom = e.tailFrom === null ? op.size : Math.min(e.tailFrom, op.size);
        } else this.#entry(op.path); // mode, owner, times: the reintegration resets them from the primary
        return;
      case "setxattr":
      case "removexattr":
        this.#entry(op.path);
        return;
      case "create":
      case "mknod":
      case "symlink":
      case "unlink":
        this.#whole(op.path);
        return;
      case "link":
        // Both names now share one inode: a later write through either must reach both on the secondary.
        this.#whole(op.path);
        this.#whole(op.newPath);
        return;
      case "mkdir":
      case "rmdir":
        this.#whole(op.path);
        this.#wholeDirs.add(op.path);
        return;
      case "rename":
        // Either name may be a directory (and RENAME_EXCHANGE swaps both): nothing below them is patchable.
        for (const p of [op.from, op.to]) {
          this.#whole(p);
          this.#wholeDirs.add(p);
        }
        return;
      case "fsync":
        return;
    }
  }

  /** True if `dir` or one of its ancestors was created, removed or renamed since the sync point. */
  isWholeDir(dir: string): boolean {
    if (dir === ".") return false;
    for (let i = dir.indexOf("/"); i >= 0; i = dir.indexOf("/", i + 1)) {
      if (this.#wholeDirs.has(dir.slice(0, i))) return true;
    }
    return this.#wholeDirs.has(dir);
  }

  /** The recorded children of `dir` (names without the directory). */
  childrenOf(dir: string): ReadonlyMap<string, FileZones> {
    return this.#byParent.get(dir) ?? new Map();
  }

  lookup(path: string): FileZones | undefined {
    const { parent, name } = splitParent(path);
    return this.#byParent.get(parent)?.get(name);
  }

  /** Adds everything `other` recorded (the recent-ops window merged in when the secondary is lost). */
  merge(other: ZoneMap): void {
    for (const d of other.#wholeDirs) this.#wholeDirs.add(d);
    for (const [parent, children] of other.#byParent) {
      for (const [name, z] of children) {
        const e = this.#entry(parent === "." ? name : `${parent}/${name}`);
        e.whole ||= z.whole;
        if (z.tailFrom !== null) {
          e.tailFrom = e.tailFrom === null ? z.tailFrom : Math.min(e.tailFrom, z.tailFrom);
        }
        if (z.bits.length > e.bits.length) {
          const grown = new Uint8Array(z.bits.length);
          grown.set(e.bits);
          e.bits = grown;
        }
        for (let i = 0; i < z.bits.length; i++) e.bits[i] |= z.bits[i];
        e.changes += z.changes;
      }
    }
  }

  /** Every recorded entry, for persistence. */
  *entries(): Generator<[string, FileZones]> {
    for (const [parent, children] of this.#byParent) {
      for (const [name, z] of children) yield [parent === "." ? name : `${parent}/${name}`, z];
    }
  }

  get wholeDirs(): readonly string[] {
    return [...this.#wholeDirs];
  }

  /** Restores one entry read back from disk. */
  restore(path: string, z: FileZones): void {
    const { parent, name } = splitParent(path);
    let children = this.#byParent.get(parent);
    if (children === undefined) this.#byParent.set(parent, children = new Map());
    children.set(name, z);
  }

  restoreWholeDir(dir: string): void {
    this.#wholeDirs.add(dir);
  }

  #entry(path: string): FileZones {
    const { parent, name } = splitParent(path);
    let children = this.#byParent.get(parent);
    if (children === undefined) this.#byParent.set(parent, children = new Map());
    let e = children.get(name);
    if (e === undefined) {
      children.set(name, e = { whole: false, tailFrom: null, bits: new Uint8Array(0), changes: 0 });
    }
    e.changes++;
    return e;
  }

  #zones(path: string, offset: number, length: number): void {
    const e = this.#entry(path);
    const z = zonesTouched(offset, length, this.zoneSize);
    if (z !== null && !e.whole) e.bits = setZoneBits(e.bits, z.first, z.last);
  }

  #whole(path: string): void {
    const e = this.#entry(path);
    e.whole = true;
    e.bits = new Uint8Array(0);
    e.tailFrom = null;
  }
}
