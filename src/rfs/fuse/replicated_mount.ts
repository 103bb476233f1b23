// Mounts the FUSE passthrough over a directory in place: the application keeps its path, the files stay
// in the same directory, and every change also goes to the sink.

import { openTreeRoot, type TreeRoot } from "../beneath_root.ts";
import { clearStaleReadOnlyGuard } from "../read_only_guard.ts";
import { AT_FDCWD, cstr, errno, MNT_DETACH, sys } from "./libc.ts";
import type { ReplicationSink } from "../tree_op.ts";
import { type FuseMountOptions, FuseSession } from "./fuse_session.ts";
import { PassthroughFs } from "./passthrough_fs.ts";

export type ReplicatedMount = {
  readonly dir: string;
  readonly session: FuseSession;
  readonly fs: PassthroughFs;
  /** The O_PATH handle on the directory underneath the mount (what the server serves). */
  readonly root: TreeRoot;
  /** Lazy unmount, then waits for in-flight requests; the directory then shows the same files directly. */
  unmount(): Promise<void>;
};

const ENOTCONN = 107;

/**
 * Detaches the mount left on `dir` by a FUSE server that died (every access then fails with ENOTCONN).
 * Returns true if there was one. Safe on a healthy directory; never call it on a mount this process serves.
 */
export function clearStaleMount(dir: string): boolean {
  const st = new Uint8Array(256);
  if (sys.fstatat(AT_FDCWD, cstr(dir), st, 0) === 0 || errno() !== ENOTCONN) return false;
  if (sys.umount2(cstr(dir), MNT_DETACH) !== 0) {
    throw new Error(
      `${dir}: stale FUSE mount (ENOTCONN) and umount2(MNT_DETACH) failed with errno ${errno()}`,
    );
  }
  return true;
}

/** Mounts over `dir` in place, after clearing a stale mount a crashed server may have left there. */
export async function mountReplicatedDir(
  dir: string,
  options: { sink?: ReplicationSink; ttlSec?: number } & FuseMountOptions = {},
): Promise<ReplicatedMount> {
  clearStaleMount(dir);
  // A secondary that crashed while SECOND may have left its read-only guard: the handle must be on the
  // read-write mount.
  clearStaleReadOnlyGuard(dir);
  // The handle must be taken before the mount hides the directory.
  const root = openTreeRoot(dir);
  let session: FuseSession;
  const fs = new PassthroughFs({ rootFd: root.fd, sink: options.sink, ttlSec: options.ttlSec });
  try {
    // Reads pass through to the backing files wherever the kernel offers it; never with the writeback
    // cache, which the kernel does not combine with passthrough.
    session = FuseSession.mount(dir, fs, {
      ...options,
      passthrough: options.passthrough ?? !options.writebackCache,
    });
  } catch (e) {
    root.close();
    throw e;
  }
  await session.ready;
  return {
    dir,
    session,
    fs,
    root,
    async unmount() {
      await session.unmount();
      root.close();
    },
  };
}
