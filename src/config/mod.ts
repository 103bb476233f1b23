// Public face of the configuration model: cluster.xml and userconfig.xml -> typed, validated,
// deeply frozen config objects (pure: no I/O).

export { ConfigError } from "./config_error.ts";
export type { ConfigErrorFields } from "./config_error.ts";
export { parseClusterXml } from "./cluster_parser.ts";
export { addrOf, commandLan, lanNames, nodeNames } from "./cluster_queries.ts";
export type { ClusterConfig, ClusterLan, ClusterNode } from "./cluster_types.ts";
export { parseUserConfig, SERVICE_CHILDREN } from "./userconfig_parser.ts";
export type * from "./module_types.ts";
export { moduleClusterErrors, validateModuleAgainstCluster } from "./module_cluster_check.ts";
export { formatTimeMs, parseTimeMs, parseTimeValue } from "./time_value.ts";
export type { TimeParseResult, TimeUnit } from "./time_value.ts";
export { farmPort, heartPort, rfsPort } from "./module_ports.ts";
export { configSignature, normalizeConfigText } from "./config_signature.ts";
export type { SourcePosition } from "./source_position.ts";
