// The global menu's order (spec §9.3) and the command log's columns, without a browser.
import assert from "node:assert/strict";
import { lastPrimaryTime, startAllOrder, stopAllOrder } from "../../console/global_order.ts";
import { commandText, commandWho } from "../../console/command_log.tsx";
import { hashOf, parseHash } from "../../console/routes.ts";

Deno.test("stop all: the secondary first, the primary last, stopped nodes left out", () => {
  assert.deepEqual(
    stopAllOrder([
      { node: "node1", local: "PRIM" },
      { node: "node2", local: "SECOND" },
      { node: "node3", local: "STOP" },
      { node: "node4", local: null },
    ]).map((s) => `${s.verb} ${s.node}`),
    ["stop node2", "stop node1"],
  );
});

Deno.test("stop all: an ALONE node counts as primary; a WAIT node goes first", () => {
  assert.deepEqual(
    stopAllOrder([{ node: "a", local: "ALONE" }, { node: "b", local: "WAIT" }]).map((s) => s.node),
    ["b", "a"],
  );
});

Deno.test("start all: the node that was primary last starts first", () => {
  const order = startAllOrder(
    [{ node: "node1", local: "STOP" }, { node: "node2", local: "STOP" }],
    { node1: 1000, node2: 2000 },
  );
  assert.deepEqual(order.map((s) => `${s.verb} ${s.node}`), ["start node2", "start node1"]);
});

Deno.test("start all: without history the node order is kept, and running nodes are left out", () => {
  assert.deepEqual(
    startAllOrder(
      [{ node: "n1", local: "STOP" }, { node: "n2", local: "STOP" }, { node: "n3", local: "UP" }],
      {},
    ).map((s) => s.node),
    ["n1", "n2"],
  );
  assert.deepEqual(
    startAllOrder([{ node: "n1", local: "STOP" }, { node: "n2", local: "STOP" }], { n2: 5 }).map((s) =>
      s.node
    ),
    ["n2", "n1"],
  );
});

Deno.test("last primary time: the newest PRIM or ALONE value of state.local", () => {
  assert.equal(
    lastPrimaryTime([
      { value: "ALONE Ready", at: 10 },
      { value: "PRIM Ready", at: 20 },
      { value: "SECOND Ready", at: 30 },
      { value: "STOP NotReady", at: 40 },
    ]),
    20,
  );
  assert.equal(lastPrimaryTime([{ value: "SECOND Ready", at: 1 }]), undefined);
});

Deno.test("command log: who ran a forwarded console command, and what a row says", () => {
  const start = {
    kind: "START" as const,
    id: 1,
    at: 0,
    action: "safekit",
    module: "mirror",
    pid: 1,
    args: "POST /api/v1/modules/mirror/commands/swap by carol@127.0.0.1 -u node1@127.0.0.41",
  };
  assert.equal(commandWho(start), "carol@127.0.0.1 via node1@127.0.0.41");
  assert.equal(
    commandWho({ ...start, args: "POST /api/v1/modules/mirror/commands/stop -u carol@10.0.0.1" }),
    "carol@10.0.0.1",
  );
  assert.equal(commandWho({ ...start, args: "config -m mirror" }), "local");
  assert.equal(commandText({ kind: "END", id: 2, at: 0, pid: 1, code: 0 }), "end: success");
  assert.equal(commandText({ kind: "END", id: 2, at: 0, pid: 1, code: 3 }), "end: failed (3)");
});

Deno.test("console pages: command log and module configuration addresses round-trip", () => {
  for (
    const page of [
      { kind: "commands", node: null },
      { kind: "commands", node: "node 2" },
      { kind: "modules" },
      { kind: "module-config", module: "mirror" },
    ] as const
  ) {
    assert.deepEqual(parseHash(hashOf(page)), page);
  }
});
