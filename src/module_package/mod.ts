// Module packages: `.safe` archives (spec §1.1, §1.3, §3.5). Read one safely, package a module
// tree into one, install a tree from one atomically.

export {
  readSafeArchive,
  type ReadSafeArchiveOptions,
  type SafeArchive,
  type SafeArchiveEntry,
  USERCONFIG_PATH,
} from "./read_safe_archive.ts";
export { SafeArchiveError, type SafeArchiveErrorCode } from "./safe_archive_error.ts";
export { DEFAULT_SAFE_ARCHIVE_LIMITS, type SafeArchiveLimits } from "./archive_limits.ts";
export { packageModuleDir } from "./package_module_dir.ts";
export { installModuleTree, type InstallModuleTreeOptions } from "./install_module_tree.ts";
export { ModuleTreeError, type ModuleTreeErrorCode } from "./module_tree_error.ts";
