import assert from "node:assert/strict";
import { replicationFilter } from "../../src/rfs/replication_filter.ts";

const cases: { name: string; paths?: string[]; regexps?: string[]; expect: [string, boolean, boolean][] }[] =
  [
    {
      name: "no <notreplicated>: everything is replicated",
      expect: [["a", false, true], ["a/b/c", false, true], [".", true, true]],
    },
    {
      name: "a path excludes itself and its subtree, not its look-alikes",
      paths: ["cache", "data/tmp/"],
      expect: [["cache", true, false], ["cache/x/y", false, false], ["cachex", false, true], [
        "data/tmp/f",
        false,
        false,
      ], [
        "data/tmpx",
        false,
        true,
      ], ["data/f", false, true]],
    },
    {
      name: "a regexpath excludes matching entries, and what lies below a matching directory",
      regexps: ["\\.log$", "^work/[^/]*\\.lock$"],
      expect: [["a.log", false, false], ["d/a.log", false, false], ["logs.log/inner", false, false], [
        "a.logx",
        false,
        true,
      ], [
        "work/x.lock",
        false,
        false,
      ], ["work/sub/x.lock", false, true]],
    },
    {
      name: "'!' regexpaths replicate only the files they match; directories stay traversable",
      regexps: ["!\\.db$"],
      expect: [["data/a.db", false, true], ["data/a.txt", false, false], ["data", true, true]],
    },
  ];

for (const c of cases) {
  Deno.test(`replication filter: ${c.name}`, () => {
    const f = replicationFilter({ notReplicatedPaths: c.paths ?? [], notReplicatedRegexps: c.regexps ?? [] });
    for (const [path, isDir, expected] of c.expect) assert.equal(f.isReplicated(path, isDir), expected, path);
  });
}

Deno.test("replication filter: an invalid regexpath is reported with the pattern", () => {
  assert.throws(
    () => replicationFilter({ notReplicatedPaths: [], notReplicatedRegexps: ["(["] }),
    /<notreplicated regexpath="\(\[">: invalid regular expression/,
  );
});
