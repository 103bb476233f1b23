// Public face of replication for the node service. The FUSE side runs in its own process
// (primary_process.ts, `safekit rfs-primary`); the secondary side and reintegration run in the service.
export { ReplicationServer } from "./replication_server.ts";
export { reintegrate, ReintegrationError } from "./reintegration.ts";
export { replicationFilter } from "./replication_filter.ts";
export { type PrimaryProcessConfig, runPrimaryProcess } from "./primary_process.ts";
