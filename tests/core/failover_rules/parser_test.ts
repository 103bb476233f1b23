import assert from "node:assert/strict";
import { formatRule, parseRules, type Rule, STATIC_RULE_TEXT } from "../../../src/core/failover_rules/mod.ts";

const parse = (text: string) => parseRules({ text, line: 1, column: 1 });

/** The tree without source positions, as a JSON snapshot. */
function snapshot(rules: Rule[]): unknown {
  return JSON.parse(JSON.stringify(rules, (k, v) => (k === "at" ? undefined : v)));
}

const down = { kind: "state", state: "down" };
const up = { kind: "state", state: "up" };
const res = (cls: string, id: unknown, side = "local") => ({ kind: "resource", side, class: cls, id });
const named = (name: string) => ({ kind: "name", name });

const GOLDEN: { text: string; tree: unknown }[] = [
  {
    text: "p_testR2: if (ping.testR2 == down) then wait();",
    tree: [{
      name: "p_testR2",
      condition: { kind: "compare", op: "==", left: res("ping", named("testR2")), right: down },
      action: { kind: "call", name: "wait" },
      origin: "user",
    }],
  },
  {
    text: "checkfile_failure: if( custom.checkfile == down ) then restart();",
    tree: [{
      name: "checkfile_failure",
      condition: { kind: "compare", op: "==", left: res("custom", named("checkfile")), right: down },
      action: { kind: "call", name: "restart" },
      origin: "user",
    }],
  },
  {
    text: "i: if (intf.192.168.0.0 != up) then stop();",
    tree: [{
      name: "i",
      condition: { kind: "compare", op: "!=", left: res("intf", named("192.168.0.0")), right: up },
      action: { kind: "call", name: "stop" },
      origin: "user",
    }],
  },
  {
    text: "m: if (down == remote.module.other_10.0.0.5) then swap();",
    tree: [{
      name: "m",
      condition: {
        kind: "compare",
        op: "==",
        left: down,
        right: res("module", named("other_10.0.0.5"), "remote"),
      },
      action: { kind: "call", name: "swap" },
      origin: "user",
    }],
  },
  {
    text: "w: if (ping.* == down || !(local.tcp.? == up) && cluster() != up) then stopstart();",
    tree: [{
      name: "w",
      condition: {
        kind: "or",
        left: { kind: "compare", op: "==", left: res("ping", { kind: "all" }), right: down },
        right: {
          kind: "and",
          left: {
            kind: "not",
            operand: { kind: "compare", op: "==", left: res("tcp", { kind: "any" }), right: up },
          },
          right: { kind: "compare", op: "!=", left: { kind: "cluster" }, right: up },
        },
      },
      action: { kind: "call", name: "stopstart" },
      origin: "user",
    }],
  },
  {
    text: "n: if (! proc.appli.exe == up) then restart();",
    tree: [{
      name: "n",
      condition: {
        kind: "not",
        operand: { kind: "compare", op: "==", left: res("proc", named("appli.exe")), right: up },
      },
      action: { kind: "call", name: "restart" },
      origin: "user",
    }],
  },
  {
    text: STATIC_RULE_TEXT.rfs_forceuptodate,
    tree: [{
      name: "rfs_forceuptodate",
      condition: {
        kind: "and",
        left: {
          kind: "and",
          left: {
            kind: "and",
            left: { kind: "compare", op: "==", left: res("heartbeat", { kind: "all" }), right: down },
            right: { kind: "compare", op: "==", left: { kind: "cluster" }, right: down },
          },
          right: { kind: "compare", op: "==", left: res("rfs", named("synced")), right: up },
        },
        right: { kind: "compare", op: "==", left: res("rfs", named("uptodate")), right: down },
      },
      action: { kind: "assign", target: res("rfs", named("uptodate")), value: "up" },
      origin: "user",
    }],
  },
  {
    text: "r: if (local.rfs.uptodate != remote.rfs.uptodate) then wait();",
    tree: [{
      name: "r",
      condition: {
        kind: "compare",
        op: "!=",
        left: res("rfs", named("uptodate")),
        right: res("rfs", named("uptodate"), "remote"),
      },
      action: { kind: "call", name: "wait" },
      origin: "user",
    }],
  },
];

for (const g of GOLDEN) {
  Deno.test(`rule parser: '${g.text.slice(0, 60)}' gives the expected syntax tree`, () => {
    assert.deepEqual(snapshot(parse(g.text)), g.tree);
  });
}

Deno.test("rule parser: formatRule gives text that parses back to the same tree", () => {
  for (const g of GOLDEN) {
    const rules = parse(g.text);
    const again = parse(rules.map(formatRule).join("\n"));
    assert.deepEqual(snapshot(again), snapshot(rules), g.text);
  }
});

Deno.test("rule parser: formatRule writes the canonical form", () => {
  const [r] = parse("x:if((ping.a==down)||!(tcp.b==up)&&(a.b==up||c.d==up))then wait();");
  assert.equal(
    formatRule(r),
    "x: if (ping.a == down || !(tcp.b == up) && (a.b == up || c.d == up)) then wait();",
  );
});

Deno.test("rule parser: every rule example of spec §5 parses", () => {
  const examples = [
    ...Object.values(STATIC_RULE_TEXT),
    "p_testR2: if (ping.testR2 == down) then wait();",
    "t_R1test: if (tcp.R1test == down) then restart();",
    "c_AppChecker: if (custom.AppChecker == down) then stopstart();",
    "checkfile_failure: if( custom.checkfile == down ) then restart();",
    "allip_failure: if (ip.* == down) then stopstart();",
    "tcp_failure: if (tcp.? == down) then restart();",
    "ping_failure: if (ping.? == down) then wait();",
    "custom_failure: if (custom.AppChecker == down) then stopstart();",
    "s: if (heartbeat.default == down && heartbeat.flow == down) then swap();",
    "u: if (rfs.uptodate == unknown || rfs.degraded == init) then wait();",
  ];
  for (const text of examples) assert.equal(parse(text).length, 1, text);
});

Deno.test("rule parser: several rules, comments and line breaks", () => {
  const rules = parse(`
# hash comment
// slash comment
a: if (ping.x == down) /* inline */ then wait();
/* block
   comment */ b: if (
  tcp.y == down
) then restart();  # trailing
`);
  assert.deepEqual(rules.map((r) => r.name), ["a", "b"]);
});

Deno.test("rule parser: empty text or only comments gives no rule", () => {
  assert.deepEqual(parse(""), []);
  assert.deepEqual(parse("  \n# nothing\n/* */\n"), []);
});

Deno.test("rule parser: positions are in the file, shifted by the CDATA start on its first line only", () => {
  const rules = parseRules({
    text: "a: if (ping.x == down) then wait();\n  b: if (tcp.y == up) then stop();",
    line: 40,
    column: 12,
  });
  assert.deepEqual(rules[0].at, { line: 40, column: 12 });
  assert.deepEqual(rules[1].at, { line: 41, column: 3 });
  const cmp = rules[1].condition;
  assert.ok(cmp.kind === "compare");
  assert.deepEqual(cmp.left.at, { line: 41, column: 10 });
});

Deno.test("rule parser: rules get the origin asked for", () => {
  const [r] = parseRules({ text: "a: if (ping.x == down) then wait();", line: 1, column: 1 }, {
    origin: "static",
  });
  assert.equal(r.origin, "static");
});
