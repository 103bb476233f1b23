// Which paths of a replicated directory are replicated: <notreplicated path>, <notreplicated regexpath>
// and the 8.2 "replicate only" form `regexpath="!..."` (spec §4.7, §7.1).
//
// Rules, on a path relative to the replicated root ("a/b/c"):
//  - under a <notreplicated path="a/b"> (the path itself or anything below it): not replicated;
//  - a plain regexpath matching the path: not replicated (a matching directory excludes its subtree, since
//    every path below it is tested with its own prefixes too);
//  - when there are "!" regexpaths: a non-directory is replicated only if one of them matches it.
//    Directories are not subject to them (a directory must exist for the files it leads to).
// Regexps are JavaScript RegExps, close to POSIX ERE for the usual patterns; case-sensitive (Linux).

export type ReplicationFilter = {
  /** False for a path excluded by <notreplicated>; `isDir` only matters for "!" patterns. */
  isReplicated(path: string, isDir: boolean): boolean;
};

export function replicationFilter(cfg: {
  readonly notReplicatedPaths: readonly string[];
  readonly notReplicatedRegexps: readonly string[];
}): ReplicationFilter {
  const paths = cfg.notReplicatedPaths.map((p) =>
    p.replace(/\\/g, "/").replace(/^\.\//, "").replace(/\/+$/, "")
  );
  const excluded: RegExp[] = [];
  const only: RegExp[] = [];
  for (const r of cfg.notReplicatedRegexps) {
    try {
      if (r.startsWith("!")) only.push(new RegExp(r.slice(1)));
      else excluded.push(new RegExp(r));
    } catch (e) {
      throw new Error(
        `<notreplicated regexpath="${r}">: invalid regular expression (${(e as Error).message})`,
      );
    }
  }
  const none = paths.length === 0 && excluded.length === 0 && only.length === 0;
  return {
    isReplicated(path: string, isDir: boolean): boolean {
      if (none || path === ".") return true;
      // Every prefix is tested so that excluding a directory excludes its subtree.
      let prefix = "";
      for (const component of path.split("/")) {
        prefix = prefix === "" ? component : `${prefix}/${component}`;
        if (paths.includes(prefix)) return false;
        if (excluded.some((re) => re.test(prefix))) return false;
      }
      if (only.length > 0 && !isDir) return only.some((re) => re.test(path));
      return true;
    },
  };
}

export const REPLICATE_ALL: ReplicationFilter = { isReplicated: () => true };
