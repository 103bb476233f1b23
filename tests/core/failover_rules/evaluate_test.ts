import assert from "node:assert/strict";
import { evaluate, parseRules, referencedResources } from "../../../src/core/failover_rules/mod.ts";

const RULES = parseRules({
  text: `
any_ping: if (ping.? == down) then wait();
all_ping: if (ping.* == down) then stop();
all_ping_not_up: if (ping.* != up) then restart();
not_all_ping_up: if (!(ping.* == up)) then swap();
named: if (tcp.web == down) then restart();
missing_is_unknown: if (custom.typo == unknown) then restart();
peer_uptodate: if (remote.rfs.uptodate == up && rfs.uptodate == down) then wait();
peer_any_hb: if (remote.heartbeat.? == down) then stopstart();
same_as_peer: if (local.rfs.uptodate == remote.rfs.uptodate) then restart();
isolated: if (heartbeat.* == down && cluster() == down) then rfs.uptodate=up;
`,
  line: 1,
  column: 1,
});

type Row = {
  name: string;
  local: Record<string, string>;
  remote?: Record<string, string> | null;
  clusterUp?: boolean;
  fired: string[];
};

const ROWS: Row[] = [
  {
    name: "no resource at all: missing ones are unknown (unknown == unknown holds), !(ping.* == up) holds",
    local: {},
    fired: ["not_all_ping_up", "missing_is_unknown", "same_as_peer"],
  },
  {
    name: "one ping down of two: ? fires, * does not",
    local: { "ping.a": "down", "ping.b": "up", "custom.typo": "up" },
    fired: ["any_ping", "not_all_ping_up", "same_as_peer"],
  },
  {
    name: "every ping down: ?, * and * != up fire",
    local: { "ping.a": "down", "ping.b": "down", "custom.typo": "up" },
    fired: ["any_ping", "all_ping", "all_ping_not_up", "not_all_ping_up", "same_as_peer"],
  },
  {
    name: "ping init and down: * != up fires, * == down does not",
    local: { "ping.a": "init", "ping.b": "down", "custom.typo": "up" },
    fired: ["any_ping", "all_ping_not_up", "not_all_ping_up", "same_as_peer"],
  },
  {
    name: "wildcards range over their class only (pingx.a is not in ping.*: the class is empty)",
    local: { "pingx.a": "down", "custom.typo": "up" },
    fired: ["not_all_ping_up", "same_as_peer"],
  },
  {
    name: "a named resource with dots in its class member names",
    local: { "tcp.web": "down", "tcp.web.backup": "up", "custom.typo": "up" },
    fired: ["not_all_ping_up", "named", "same_as_peer"],
  },
  {
    name: "remote resources are read from the peer's table",
    local: { "rfs.uptodate": "down", "custom.typo": "up" },
    remote: { "rfs.uptodate": "up", "heartbeat.default": "up", "heartbeat.flow": "down" },
    fired: ["not_all_ping_up", "peer_uptodate", "peer_any_hb"],
  },
  {
    name: "unknown peer: remote named resources are unknown and remote wildcards are empty",
    local: { "rfs.uptodate": "unknown", "custom.typo": "up" },
    remote: null,
    fired: ["not_all_ping_up", "same_as_peer"],
  },
  {
    name: "cluster() down and every heartbeat down: the assignment rule fires",
    local: {
      "heartbeat.default": "down",
      "heartbeat.flow": "down",
      "custom.typo": "up",
      "rfs.uptodate": "up",
    },
    remote: { "rfs.uptodate": "up" },
    clusterUp: false,
    fired: ["not_all_ping_up", "same_as_peer", "isolated"],
  },
  {
    name: "cluster() not given is unknown, so == down does not hold",
    local: { "heartbeat.default": "down", "custom.typo": "up", "rfs.uptodate": "up" },
    remote: { "rfs.uptodate": "up" },
    fired: ["not_all_ping_up", "same_as_peer"],
  },
];

for (const row of ROWS) {
  Deno.test(`evaluate: ${row.name}`, () => {
    const out = evaluate(
      RULES,
      {
        local: new Map(Object.entries(row.local)),
        remote: row.remote === undefined || row.remote === null
          ? row.remote
          : new Map(Object.entries(row.remote)),
      },
      { clusterUp: row.clusterUp },
    );
    assert.deepEqual(out.fired.map((f) => f.rule.name), row.fired);
  });
}

Deno.test("evaluate: wait rules reading init resources are reported, with the resources", () => {
  const rules = parseRules({
    text: `w: if (intf.? == down) then wait();
r: if (tcp.x == down) then restart();
p: if (ping.a == down || ping.b == down) then wait();`,
    line: 1,
    column: 1,
  });
  const out = evaluate(rules, {
    local: new Map([["intf.10.0.0.0", "init"], ["intf.10.1.0.0", "up"], ["tcp.x", "init"], [
      "ping.b",
      "init",
    ]]),
  });
  assert.deepEqual(out.initWaits.map((w) => [w.rule.name, w.resources]), [["w", ["intf.10.0.0.0"]], ["p", [
    "ping.b",
  ]]]);
});

Deno.test("evaluate: referencedResources lists named resources read or assigned", () => {
  assert.deepEqual(referencedResources(RULES), [
    "tcp.web",
    "custom.typo",
    "remote.rfs.uptodate",
    "rfs.uptodate",
  ]);
});
