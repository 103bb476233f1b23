// The error type of packaging a module tree into a `.safe` file and of installing a tree from
// one: which tree, what is wrong with it, and (for installs) that the node was left unchanged.

export type ModuleTreeErrorCode =
  | "not_a_directory"
  | "symlink"
  | "special_file"
  | "missing_userconfig"
  | "target_exists"
  | "bad_archive"
  | "install_failed";

export class ModuleTreeError extends Error {
  readonly code: ModuleTreeErrorCode;
  /** The module tree being packaged, or the target of an install. */
  readonly dir: string;

  constructor(code: ModuleTreeErrorCode, dir: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ModuleTreeError";
    this.code = code;
    this.dir = dir;
  }
}
