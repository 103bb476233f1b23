import assert from "node:assert/strict";
import {
  compileSelector,
  matchesProc,
  parseCmdline,
  parseStat,
  posixEre,
  type ProcInfo,
  procLine,
} from "../../src/errd/proc_table.ts";

Deno.test("parseStat reads pid, state and ppid around a command name holding spaces and parentheses", () => {
  const line = "4242 (my (odd) app) S 17 4242 4242 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 1 0 99 1000 10";
  assert.deepEqual(parseStat(line), { pid: 4242, comm: "my (odd) app", state: "S", ppid: 17 });
  assert.equal(parseStat("garbage"), null);
});

Deno.test("parseCmdline splits on NUL and drops the terminating one", () => {
  assert.deepEqual(parseCmdline("java\0-jar\0app.jar\0"), ["java", "-jar", "app.jar"]);
  assert.deepEqual(parseCmdline(""), []);
});

const proc = (comm: string, argv: string[], state = "S"): ProcInfo => ({
  pid: 10,
  ppid: 1,
  comm,
  state,
  argv,
});

const cases: {
  name: string;
  sel: { name: string; nameRegex?: string; argRegex?: string };
  p: ProcInfo;
  match: boolean;
}[] = [
  { name: "exact command name", sel: { name: "httpd" }, p: proc("httpd", ["/usr/sbin/httpd"]), match: true },
  { name: "other command name", sel: { name: "httpd" }, p: proc("nginx", ["nginx"]), match: false },
  {
    name: "a long name is compared as the kernel truncates it (15 characters)",
    sel: { name: "postgres_checkpointer" },
    p: proc("postgres_checkp", ["/opt/pg/postgres_checkpointer"]),
    match: true,
  },
  {
    name: "a long name does not match a different truncated comm",
    sel: { name: "postgres_checkpointer" },
    p: proc("postgres_checkx", ["x"]),
    match: false,
  },
  {
    name: "nameregex matches the untruncated basename of argv[0]",
    sel: { name: "pg", nameRegex: "^postgres_checkpointer$" },
    p: proc("postgres_checkp", ["/opt/pg/postgres_checkpointer"]),
    match: true,
  },
  {
    name: "nameregex replaces the name test",
    sel: { name: "whatever", nameRegex: "^java$" },
    p: proc("java", ["/usr/bin/java"]),
    match: true,
  },
  {
    name: "argregex on the arguments after argv[0]",
    sel: { name: "java", argRegex: "-jar [a-z]+\\.jar$" },
    p: proc("java", ["java", "-Xmx1g", "-jar", "app.jar"]),
    match: true,
  },
  {
    name: "argregex not matching",
    sel: { name: "java", argRegex: "other\\.jar" },
    p: proc("java", ["java", "-jar", "app.jar"]),
    match: false,
  },
  {
    name: "argregex does not see argv[0]",
    sel: { name: "java", argRegex: "^/usr/bin" },
    p: proc("java", ["/usr/bin/java", "-version"]),
    match: false,
  },
  {
    name: "POSIX bracket classes work",
    sel: { name: "sleep", argRegex: "^[[:digit:]]+\\.[[:digit:]]+$" },
    p: proc("sleep", ["sleep", "1234.5"]),
    match: true,
  },
  { name: "a zombie is not running", sel: { name: "httpd" }, p: proc("httpd", [], "Z"), match: false },
];

for (const c of cases) {
  Deno.test(`proc matching: ${c.name}`, () => {
    assert.equal(matchesProc(compileSelector(c.sel), c.p), c.match);
  });
}

Deno.test("posixEre negated class and plain JS-compatible syntax", () => {
  assert.ok(posixEre("^[^[:space:]]+$").test("abc"));
  assert.ok(!posixEre("^[^[:space:]]+$").test("a c"));
  assert.ok(posixEre("(a|b){2}").test("ab"));
});

Deno.test("procLine has the errdpoll_running shape", () => {
  assert.equal(procLine(proc("sleep", ["sleep", "60"])), "10 sleep sleep 60 (parent=1)");
  assert.equal(procLine(proc("kworker/0:1", [])), "10 kworker/0:1 [kworker/0:1] (parent=1)");
});
