// Which opens of a file may use FUSE passthrough (reads served by the kernel from the backing file, never
// reaching us), and the backing registrations that needs.
//
// The kernel's rules (fs/fuse/iomode.c, checked on 6.18):
//  - an inode has at most one backing file at a time (another one: EBUSY), so a registration is kept per
//    FUSE node and shared by its opens, refcounted;
//  - while an inode has a backing file, EVERY open of it must carry FOPEN_PASSTHROUGH (else EIO); while it
//    is open through the page cache, a passthrough open fails with EIO.
// Our policy, so that every write still reaches the server (and the secondary):
//  - read-only open, nothing open through the page cache → passthrough (the kernel reads the backing file);
//  - read-only open otherwise → page cache, as without passthrough;
//  - writable open, no passthrough open → page cache (the normal path: dirty mmap pages become WRITEs);
//  - writable open while the node has passthrough readers → FOPEN_PASSTHROUGH|FOPEN_DIRECT_IO: read(2)
//    and write(2) come to us and are replicated. Its mmap, though, maps the backing file: a shared
//    writable mapping made through it changes the file behind our back. Such a handle is "unmediated":
//    the server checks the file at every FSYNC and at its RELEASE, and replicates it whole if it changed
//    behind its back (passthrough_fs.ts, reconcile). docs/replication-fuse.md states the guarantee.

import { errno, sys } from "./libc.ts";

export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_PASSTHROUGH = 1 << 7;

const FUSE_DEV_IOC_BACKING_OPEN = 0x4010e501n;
const FUSE_DEV_IOC_BACKING_CLOSE = 0x4004e502n;

/** How one open of a node is served; `kind` is remembered until its RELEASE. */
export type OpenMode =
  | { readonly kind: "passthrough"; readonly backingId: number }
  | { readonly kind: "cached" }
  | { readonly kind: "direct"; readonly backingId: number };

type NodeOpens = { cached: number; direct: number; passthrough: number; backingId: number };

export type ReadPassthroughStats = { passthroughOpens: number; registrations: number; failures: number };

export class ReadPassthrough {
  readonly stats: ReadPassthroughStats = { passthroughOpens: 0, registrations: 0, failures: 0 };
  private readonly nodes = new Map<number, NodeOpens>();
  private readonly idBuf = new Uint8Array(4);

  /** `devFd` is /dev/fuse; null when the kernel did not agree to passthrough (every open is cached). */
  constructor(private readonly devFd: number | null) {}

  get enabled(): boolean {
    return this.devFd !== null;
  }

  /**
   * Decides how to serve an open of `node` and takes its reference. `backingFd` is the descriptor the
   * server opened for it (read-only when `writable` is false); it is registered with the kernel when
   * the node's first passthrough open needs it. A failed registration falls back to the page cache.
   */
  open(node: number, writable: boolean, backingFd: number): OpenMode {
    const n = this.nodes.get(node) ?? { cached: 0, direct: 0, passthrough: 0, backingId: 0 };
    this.nodes.set(node, n);
    // A registered backing file means the kernel inode is in passthrough mode: every open must say so.
    if (writable) {
      if (n.backingId !== 0) {
        n.direct++;
        return { kind: "direct", backingId: n.backingId };
      }
      n.cached++;
      return { kind: "cached" };
    }
    if (n.backingId === 0) {
      if (this.devFd === null || n.cached > 0) {
        n.cached++;
        return { kind: "cached" };
      }
      const id = this.register(backingFd);
      if (id <= 0) {
        this.stats.failures++;
        n.cached++;
        return { kind: "cached" };
      }
      n.backingId = id;
    }
    n.passthrough++;
    this.stats.passthroughOpens++;
    return { kind: "passthrough", backingId: n.backingId };
  }

  /** True while `node` has a writable handle whose mmap maps the backing file (see the header). */
  hasUnmediatedWriters(node: number): boolean {
    return (this.nodes.get(node)?.direct ?? 0) > 0;
  }

  /** Drops the reference an open took (at its RELEASE); the last one using the backing file unregisters. */
  release(node: number, mode: OpenMode): void {
    const n = this.nodes.get(node);
    if (n === undefined) return;
    n[mode.kind]--;
    if (n.passthrough === 0 && n.direct === 0 && n.backingId !== 0) {
      this.unregister(n.backingId);
      n.backingId = 0;
    }
    if (n.cached === 0 && n.direct === 0 && n.passthrough === 0) this.nodes.delete(node);
  }

  private register(fd: number): number {
    const map = new Uint8Array(16); // struct fuse_backing_map { i32 fd; u32 flags; u64 padding; }
    new DataView(map.buffer).setInt32(0, fd, true);
    const id = sys.ioctl(this.devFd!, FUSE_DEV_IOC_BACKING_OPEN, map);
    if (id > 0) this.stats.registrations++;
    return id > 0 ? id : -errno();
  }

  private unregister(id: number): void {
    new DataView(this.idBuf.buffer).setUint32(0, id, true);
    sys.ioctl(this.devFd!, FUSE_DEV_IOC_BACKING_CLOSE, this.idBuf);
  }
}
