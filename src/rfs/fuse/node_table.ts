// The FUSE node ids the kernel holds, and the tree path each one stands for.
//
// A node is (parent id, name), so renaming a directory moves everything below it at once; the path is
// rebuilt by walking up. A node whose name was removed (unlink, rmdir, replaced by a rename) keeps living
// until the kernel forgets it — an open file can still be written — but it has no path any more, so those
// writes have nothing to replicate. Pure data structure: no I/O.

export const ROOT_ID = 1;

type Node = { parent: number; name: string; nlookup: number; detached: boolean };

export class NodeTable {
  private readonly nodes = new Map<number, Node>([[ROOT_ID, {
    parent: 0,
    name: "",
    nlookup: 1,
    detached: false,
  }]]);
  private readonly byName = new Map<string, number>();
  private nextId = ROOT_ID + 1;

  get size(): number {
    return this.nodes.size;
  }

  has(id: number): boolean {
    return this.nodes.has(id);
  }

  /** Tree path of a node ("." for the root), or null when its name is gone or the id is unknown. */
  pathOf(id: number): string | null {
    if (id === ROOT_ID) return ".";
    const parts: string[] = [];
    let cur = id;
    while (cur !== ROOT_ID) {
      const n = this.nodes.get(cur);
      if (!n || n.detached) return null;
      parts.push(n.name);
      cur = n.parent;
    }
    return parts.reverse().join("/");
  }

  /** Path of `name` inside directory `parent`, or null when the parent has no path. */
  childPath(parent: number, name: string): string | null {
    const p = this.pathOf(parent);
    if (p === null) return null;
    return p === "." ? name : `${p}/${name}`;
  }

  /** Counts one more kernel reference to (parent, name), creating its node id on first sight. */
  remember(parent: number, name: string): number {
    const key = keyOf(parent, name);
    let id = this.byName.get(key);
    if (id === undefined) {
      id = this.nextId++;
      this.nodes.set(id, { parent, name, nlookup: 0, detached: false });
      this.byName.set(key, id);
    }
    this.nodes.get(id)!.nlookup++;
    return id;
  }

  /** The kernel dropped `count` references (FORGET); the node is freed at zero. */
  forget(id: number, count: number): void {
    const n = this.nodes.get(id);
    if (!n || id === ROOT_ID) return;
    n.nlookup -= count;
    if (n.nlookup > 0) return;
    this.nodes.delete(id);
    const key = keyOf(n.parent, n.name);
    if (this.byName.get(key) === id) this.byName.delete(key);
  }

  /** The name (parent, name) was removed from the tree. */
  detach(parent: number, name: string): void {
    const key = keyOf(parent, name);
    const id = this.byName.get(key);
    if (id === undefined) return;
    this.byName.delete(key);
    this.nodes.get(id)!.detached = true;
  }

  /** Mirrors a successful rename (or, with `exchange`, the swap of the two names). */
  rename(oldParent: number, oldName: string, newParent: number, newName: string, exchange: boolean): void {
    const fromKey = keyOf(oldParent, oldName), toKey = keyOf(newParent, newName);
    const moving = this.byName.get(fromKey);
    const target = this.byName.get(toKey);
    this.byName.delete(fromKey);
    this.byName.delete(toKey);
    if (target !== undefined) {
      const t = this.nodes.get(target)!;
      if (exchange) {
        t.parent = oldParent;
        t.name = oldName;
        this.byName.set(fromKey, target);
      } else t.detached = true;
    }
    if (moving !== undefined) {
      const m = this.nodes.get(moving)!;
      m.parent = newParent;
      m.name = newName;
      this.byName.set(toKey, moving);
    }
  }
}

function keyOf(parent: number, name: string): string {
  return `${parent}/${name}`;
}
