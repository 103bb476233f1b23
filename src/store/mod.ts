// Public face of the stores: the SQLite files a node and its modules keep (spec §1.3, §10).
export { StoreError, type StoreErrorCode } from "./store_error.ts";
export { formatLogTimestamp, type LogTimeZone } from "./log_timestamp.ts";
export type { PruneLimits } from "./row_pruner.ts";
export {
  formatLogLine,
  LOG_LEVELS,
  type LogLevel,
  MODULE_LOG_DEFAULT_MAX_ROWS,
  ModuleLog,
  type ModuleLogEntry,
  type ModuleLogFilter,
  type ModuleLogQuery,
  type ModuleLogRow,
  NON_VERBOSE_LEVELS,
} from "./module_log.ts";
export { followModuleLog, type FollowOptions } from "./module_log_follow.ts";
export { RESOURCE_NAME_MAX_LENGTH, resourceClass, validateResourceName } from "./resource_name.ts";
export {
  RESOURCE_HISTORY_DEFAULT_MAX_ROWS,
  type ResourceAssignment,
  type ResourceHistoryRow,
  type ResourceRecord,
  type ResourceState,
  ResourceStore,
  type ResourceValue,
} from "./resource_store.ts";
export {
  COMMAND_LOG_DEFAULT_MAX_ROWS,
  type CommandAction,
  type CommandInfo,
  CommandLog,
  type CommandLogRow,
  type CommandStart,
  formatCommandLogLine,
} from "./command_log.ts";
export {
  type InstalledModule,
  MODULE_HISTORY_DEFAULT_MAX_ROWS,
  MODULE_MODES,
  type ModuleEvent,
  type ModuleEventKind,
  type ModuleMode,
  ModuleRegistry,
} from "./module_registry.ts";
