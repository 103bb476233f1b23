import assert from "node:assert/strict";
import { FailoverRuleError, parseRules } from "../../../src/core/failover_rules/mod.ts";

// [rule text (the CDATA starts at line 1, column 1), "line:column", message after the location]
const ERRORS: [string, string, string][] = [
  // labels
  [
    "if (ping.x == down) then wait();",
    "1:1",
    "failover rules: expected a rule name followed by ':' (e.g. my_rule: if (...) then wait();) but found 'if'",
  ],
  [
    "(ping.x == down) then wait();",
    "1:1",
    "failover rules: expected a rule name followed by ':' but found '('",
  ],
  ["a if (ping.x == down) then wait();", "1:3", "failover rule 'a': expected ':' but found 'if'"],
  [
    "a* : if (ping.x == down) then wait();",
    "1:1",
    "failover rules: invalid rule name 'a*' ('*' and '?' are not allowed in rule names)",
  ],
  [
    ": if (ping.x == down) then wait();",
    "1:1",
    "failover rules: expected a rule name followed by ':' but found ':'",
  ],
  ["a:", "1:3", "failover rule 'a': expected 'if' but found end of rules"],
  ["a: IF (ping.x == down) then wait();", "1:4", "failover rule 'a': expected 'if' but found 'IF'"],
  ["a: when (ping.x == down) then wait();", "1:4", "failover rule 'a': expected 'if' but found 'when'"],
  // if ( ... )
  ["a: if ping.x == down then wait();", "1:7", "failover rule 'a': expected '(' but found 'ping.x'"],
  [
    "a: if (ping.x == down then wait();",
    "1:23",
    "failover rule 'a': expected '&&', '||' or ')' but found 'then'",
  ],
  ["a: if (ping.x == down)) then wait();", "1:23", "failover rule 'a': expected 'then' but found ')'"],
  [
    "a: if () then wait();",
    "1:8",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found ')'",
  ],
  ["a: if (ping.x == down) wait();", "1:24", "failover rule 'a': expected 'then' but found 'wait'"],
  ["a: if (ping.x == down) THEN wait();", "1:24", "failover rule 'a': expected 'then' but found 'THEN'"],
  [
    "a: if ((ping.x == down) then wait();",
    "1:25",
    "failover rule 'a': expected '&&', '||' or ')' but found 'then'",
  ],
  // comparisons
  [
    "a: if (ping.x) then wait();",
    "1:14",
    "failover rule 'a': expected '==' or '!=' after 'ping.x' but found ')'",
  ],
  [
    "a: if (ping.x = down) then wait();",
    "1:15",
    "failover rule 'a': expected '==' or '!=' after 'ping.x' but found '='",
  ],
  [
    "a: if (ping.x == ) then wait();",
    "1:18",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found ')'",
  ],
  [
    "a: if (ping.x == dwn) then wait();",
    "1:18",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found 'dwn'",
  ],
  [
    "a: if (ping.x == DOWN) then wait();",
    "1:18",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found 'DOWN'",
  ],
  [
    "a: if (ping.x == down == up) then wait();",
    "1:23",
    "failover rule 'a': expected '&&', '||' or ')' but found '=='",
  ],
  [
    "a: if (up == down) then wait();",
    "1:8",
    "failover rule 'a': a comparison needs a resource or cluster() on one side (found two states)",
  ],
  [
    "a: if (ping.* == tcp.?) then wait();",
    "1:18",
    "failover rule 'a': only one side of a comparison may use a wildcard resource (* or ?)",
  ],
  [
    "a: if ((ping.x == down) == up) then wait();",
    "1:25",
    "failover rule 'a': expected '&&', '||' or ')' but found '=='",
  ],
  [
    "a: if (ping.x == down &&) then wait();",
    "1:25",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found ')'",
  ],
  [
    "a: if (ping.x == down || ) then wait();",
    "1:26",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found ')'",
  ],
  [
    "a: if (ping.x == down & tcp.y == up) then wait();",
    "1:23",
    "failover rule 'a': expected '&&' but found '&'",
  ],
  [
    "a: if (ping.x == down | tcp.y == up) then wait();",
    "1:23",
    "failover rule 'a': expected '||' but found '|'",
  ],
  [
    "a: if (ping.x == down and tcp.y == up) then wait();",
    "1:23",
    "failover rule 'a': expected '&&', '||' or ')' but found 'and'",
  ],
  [
    "a: if (!) then wait();",
    "1:9",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found ')'",
  ],
  [
    "a: if (not ping.x == down) then wait();",
    "1:8",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found 'not'",
  ],
  [
    "a: if (cluster == down) then wait();",
    "1:8",
    "failover rule 'a': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found 'cluster'",
  ],
  [
    "a: if (cluster(1) == down) then wait();",
    "1:16",
    "failover rule 'a': expected ')' (cluster() takes no argument) but found '1'",
  ],
  // resources
  [
    "a: if (ping. == down) then wait();",
    "1:8",
    "failover rule 'a': invalid resource 'ping.' (expected [local.|remote.]class.id, e.g. ping.testR2)",
  ],
  [
    "a: if (.x == down) then wait();",
    "1:8",
    "failover rule 'a': invalid resource '.x' (expected [local.|remote.]class.id, e.g. ping.testR2)",
  ],
  [
    "a: if (remote.ping == down) then wait();",
    "1:8",
    "failover rule 'a': invalid resource 'remote.ping' (expected [local.|remote.]class.id, e.g. ping.testR2)",
  ],
  [
    "a: if (ping..x == down) then wait();",
    "1:8",
    "failover rule 'a': invalid resource 'ping..x' (empty name between two dots)",
  ],
  [
    "a: if (ping.a*b == down) then wait();",
    "1:13",
    "failover rule 'a': invalid resource 'ping.a*b' ('*' and '?' must be the whole id, e.g. ping.* or ping.?)",
  ],
  [
    "a: if (remote.ping.*x == down) then wait();",
    "1:20",
    "failover rule 'a': invalid resource 'remote.ping.*x' ('*' and '?' must be the whole id, e.g. ping.* or ping.?)",
  ],
  [
    "a: if (*.x == down) then wait();",
    "1:8",
    "failover rule 'a': invalid resource '*.x' (the class cannot be a wildcard)",
  ],
  [
    "a: if (local.?.x == down) then wait();",
    "1:14",
    "failover rule 'a': invalid resource 'local.?.x' (the class cannot be a wildcard)",
  ],
  [
    "a: if (ping.x.* == down) then wait();",
    "1:13",
    "failover rule 'a': invalid resource 'ping.x.*' ('*' and '?' must be the whole id, e.g. ping.* or ping.?)",
  ],
  ['a: if ("ping.x" == down) then wait();', "1:8", "failover rule 'a': unexpected character '\"'"],
  [
    "a: if (ping.x == down) then wait() ;;",
    "1:37",
    "failover rules: expected a rule name followed by ':' but found ';'",
  ],
  // actions
  [
    "a: if (ping.x == down) then;",
    "1:28",
    "failover rule 'a': expected an action (stop(), stopstart(), wait(), restart(), swap()) or an assignment like rfs.uptodate=up but found ';'",
  ],
  [
    "a: if (ping.x == down) then reboot();",
    "1:29",
    "failover rule 'a': unknown action 'reboot()' (expected stop(), stopstart(), wait(), restart() or swap())",
  ],
  [
    "a: if (ping.x == down) then Wait();",
    "1:29",
    "failover rule 'a': unknown action 'Wait()' (expected stop(), stopstart(), wait(), restart() or swap())",
  ],
  ["a: if (ping.x == down) then wait;", "1:33", "failover rule 'a': expected '(' after 'wait' but found ';'"],
  [
    "a: if (ping.x == down) then wait(;",
    "1:34",
    "failover rule 'a': expected ')' (actions take no argument) but found ';'",
  ],
  [
    "a: if (ping.x == down) then wait(now);",
    "1:34",
    "failover rule 'a': expected ')' (actions take no argument) but found 'now'",
  ],
  ["a: if (ping.x == down) then wait()", "1:35", "failover rule 'a': expected ';' but found end of rules"],
  [
    "a: if (ping.x == down) then wait() b: if (tcp.y == down) then stop();",
    "1:36",
    "failover rule 'a': expected ';' but found 'b'",
  ],
  [
    "a: if (ping.x == down) then waitt;",
    "1:29",
    "failover rule 'a': expected an action (stop(), stopstart(), wait(), restart(), swap()) or an assignment like rfs.uptodate=up but found 'waitt'",
  ],
  [
    "a: if (ping.x == down) then rfs.uptodate;",
    "1:41",
    "failover rule 'a': expected '=' after 'rfs.uptodate' (assignment like rfs.uptodate=up) but found ';'",
  ],
  [
    "a: if (ping.x == down) then rfs.uptodate=;",
    "1:42",
    "failover rule 'a': expected a state (init, down, up, unknown) but found ';'",
  ],
  [
    "a: if (ping.x == down) then rfs.uptodate=yes;",
    "1:42",
    "failover rule 'a': expected a state (init, down, up, unknown) but found 'yes'",
  ],
  [
    "a: if (ping.x == down) then rfs.uptodate==up;",
    "1:41",
    "failover rule 'a': expected '=' after 'rfs.uptodate' (assignment like rfs.uptodate=up) but found '=='",
  ],
  [
    "a: if (ping.x == down) then rfs.*=up;",
    "1:29",
    "failover rule 'a': cannot assign a wildcard resource 'rfs.*'",
  ],
  [
    "a: if (ping.x == down) then remote.rfs.uptodate=up;",
    "1:29",
    "failover rule 'a': cannot assign a remote resource 'remote.rfs.uptodate'",
  ],
  // comments and names
  [
    "a: if (ping.x == down) /* never closed then wait();",
    "1:24",
    "failover rule 'a': expected '*/' closing this comment but found end of rules",
  ],
  [
    "a: if (ping.x == down) then wait();\na: if (tcp.y == down) then stop();",
    "2:1",
    "failover rule 'a': rule name already used at line 1, column 1 (rule names must be unique)",
  ],
  [
    "x: if (ping.x == down) then wait();\n\n   y: if (tcp.y == down)\n   then stop()",
    "4:15",
    "failover rule 'y': expected ';' but found end of rules",
  ],
  [
    "a: if (ping.x == down) then wait();\n# comment\nb: if (tcp.y === down) then stop();",
    "3:16",
    "failover rule 'b': expected a resource (class.id), a state (init, down, up, unknown), cluster() or '(' but found '='",
  ],
];

for (const [text, where, message] of ERRORS) {
  Deno.test(`rule parse error at ${where}: ${message.slice(0, 90)}`, () => {
    assert.throws(
      () => parseRules({ text, line: 1, column: 1 }),
      (e: unknown) => {
        assert.ok(e instanceof FailoverRuleError);
        assert.equal(e.message, `Error: userconfig.xml:${where}: ${message}`);
        assert.equal(`${e.line}:${e.column}`, where);
        return true;
      },
    );
  });
}

Deno.test("rule parse errors: enough cases to cover the grammar", () => {
  assert.ok(ERRORS.length >= 50, `${ERRORS.length}`);
});

Deno.test("rule parse errors: the location is in userconfig.xml, from the CDATA start", () => {
  const text = "c_app: if (custom.app == down\n    then restart();";
  assert.throws(
    () => parseRules({ text, line: 42, column: 17 }, { file: "/opt/safekit/modules/AM/conf/userconfig.xml" }),
    {
      message:
        "Error: /opt/safekit/modules/AM/conf/userconfig.xml:43:5: failover rule 'c_app': expected '&&', '||' or ')' but found 'then'",
    },
  );
  assert.throws(() => parseRules({ text: "c_app: if (custom.app == down then", line: 42, column: 17 }), {
    message:
      "Error: userconfig.xml:42:47: failover rule 'c_app': expected '&&', '||' or ')' but found 'then'",
  });
});

Deno.test("rule parse errors: carry the rule name, expected and found tokens", () => {
  try {
    parseRules({ text: "c_app: if (custom.app == down then restart();", line: 1, column: 1 });
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof FailoverRuleError);
    assert.equal(e.rule, "c_app");
    assert.equal(e.expected, "'&&', '||' or ')'");
    assert.equal(e.found, "'then'");
    assert.equal(e.file, "userconfig.xml");
  }
});

const LUA: [string, string][] = [
  [
    '--Lua Rules\nRules = Rules + { custom_failure=if_then("custom.AppChecker","down",Action.stopstart),_group="checker" }',
    'instead of \'custom_failure=if_then("custom.AppChecker","down",Action.stopstart)\' write ' +
    "'custom_failure: if (custom.AppChecker == down) then stopstart();'",
  ],
  [
    '--Lua Rules\nRules.disable("ip_failure")',
    'instead of \'Rules.disable("ip_failure")\' use <failover extends="no"> and write the rules to keep ' +
    "(the default rules without 'ip_failure'), e.g. 'ip_failure: if (ip.? == down) then stopstart();'",
  ],
  ["--Lua Rules\n", "e.g. 'custom_failure: if (custom.AppChecker == down) then stopstart();'"],
];

for (const [text, advice] of LUA) {
  Deno.test(`rule parser: a Lua section is refused with the SafeKit form to write (${advice.slice(0, 40)})`, () => {
    assert.throws(() => parseRules({ text, line: 53, column: 20 }), (e: unknown) => {
      assert.ok(e instanceof FailoverRuleError);
      assert.equal(e.line, 53);
      assert.equal(e.column, 20);
      assert.match(e.message, /failover rules: rules written in Lua \(--Lua Rules\) are not supported/);
      assert.ok(e.message.includes(advice), e.message);
      return true;
    });
  });
}

Deno.test("rule parser: a section marked lua is refused even without the marker", () => {
  assert.throws(
    () => parseRules({ text: "  Rules.disable('x')", line: 3, column: 1, language: "lua" }),
    { message: /^Error: userconfig.xml:3:3: failover rules: rules written in Lua/ },
  );
});
