// FUSE layer of the replication: a pure-TypeScript FUSE server (no libfuse) that serves a directory in
// place and hands every change to a ReplicationSink. See docs/replication-fuse.md.

export {
  type FuseHandler,
  type FuseMountOptions,
  type FuseRequest,
  FuseSession,
  type FuseSessionStats,
  NO_REPLY,
} from "./fuse_session.ts";
export { PassthroughFs, type PassthroughOptions, type PassthroughStats } from "./passthrough_fs.ts";
export { clearStaleMount, mountReplicatedDir, type ReplicatedMount } from "./replicated_mount.ts";
