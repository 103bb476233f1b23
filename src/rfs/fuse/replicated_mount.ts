// Mounts the FUSE passthrough over a directory in place: the application keeps its path, the files stay
// in the same directory, and every change also goes to the sink.

import { openTreeRoot, type TreeRoot } from "../beneath_root.ts";
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

export async function mountReplicatedDir(
  dir: string,
  options: { sink?: ReplicationSink; ttlSec?: number } & FuseMountOptions = {},
): Promise<ReplicatedMount> {
  // The handle must be taken before the mount hides the directory.
  const root = openTreeRoot(dir);
  let session: FuseSession;
  const fs = new PassthroughFs({ rootFd: root.fd, sink: options.sink, ttlSec: options.ttlSec });
  try {
    session = FuseSession.mount(dir, fs, options);
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
