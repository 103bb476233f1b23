// The console's pure pieces: tile colours and labels (spec §2.1), what each role may do (spec §9.1), the
// page addresses, and where a cluster.xml error is.
import assert from "node:assert/strict";
import { canAct, canConfigure, tileView } from "../../console/tile_state.ts";
import { hashOf, type Page, parseHash } from "../../console/routes.ts";
import { errorPlace } from "../../console/confcheck_error.ts";
import { groupOf } from "../../console/resources.tsx";

const tiles: [
  string,
  string,
  { local: string; qualifier: string } | null,
  Record<string, string>,
  string | undefined,
  string,
  string,
  string,
][] = [
  [
    "stopped mirror",
    "mirror",
    { local: "STOP", qualifier: "NotReady" },
    {},
    undefined,
    "STOP (NotReady)",
    "red",
    "",
  ],
  [
    "waiting transient",
    "mirror",
    { local: "WAIT", qualifier: "Transient" },
    {},
    undefined,
    "WAIT (Transient)",
    "orange",
    "",
  ],
  [
    "blocked wait",
    "mirror",
    { local: "WAIT", qualifier: "NotReady" },
    {},
    undefined,
    "WAIT (NotReady)",
    "red",
    "",
  ],
  [
    "alone ready is degraded",
    "mirror",
    { local: "ALONE", qualifier: "Ready" },
    { "rfs.uptodate": "up" },
    undefined,
    "ALONE (Ready)",
    "green",
    "degraded",
  ],
  [
    "prim ready uptodate",
    "mirror",
    { local: "PRIM", qualifier: "Ready" },
    { "rfs.uptodate": "up" },
    undefined,
    "PRIM (Ready)",
    "green",
    "uptodate",
  ],
  [
    "second syncing",
    "mirror",
    { local: "SECOND", qualifier: "Transient" },
    { "rfs.uptodate": "down" },
    undefined,
    "SECOND (Transient)",
    "orange",
    "not uptodate",
  ],
  [
    "farm share",
    "farm",
    { local: "UP", qualifier: "Ready" },
    { FarmProto_0: "50" },
    undefined,
    "UP (Ready)",
    "green",
    "50%",
  ],
  [
    "checkers off shown",
    "farm",
    { local: "UP", qualifier: "Ready" },
    { "usersetting.checker": "off" },
    undefined,
    "UP (Ready)",
    "green",
    "checkers off",
  ],
  ["not configured", "mirror", null, {}, undefined, "NOT CONFIGURED", "grey", ""],
  [
    "node not answering",
    "mirror",
    null,
    {},
    "connection error: timed out",
    "ERROR",
    "red",
    "connection error",
  ],
];
for (const [name, mode, state, res, error, label, colour, detail] of tiles) {
  Deno.test(`console tile: ${name} shows ${label} in ${colour}${detail ? ` with '${detail}'` : ""}`, () => {
    assert.deepEqual(tileView(mode, state, res, error), { label, colour, detail });
  });
}

Deno.test("console roles: Monitor reads only, Control acts, Admin also configures", () => {
  assert.deepEqual(["Monitor", "Control", "Admin"].map(canAct), [false, true, true]);
  assert.deepEqual(["Monitor", "Control", "Admin"].map(canConfigure), [false, false, true]);
});

Deno.test("console pages: every page's address reads back as the same page; unknown ones go to Monitoring", () => {
  const pages: Page[] = [
    { kind: "monitoring" },
    { kind: "cluster" },
    { kind: "log", module: "my mod/1", node: "node2" },
    { kind: "resources", module: "farm", node: "n-1" },
  ];
  for (const p of pages) assert.deepEqual(parseHash(hashOf(p)), p);
  assert.deepEqual(parseHash(""), { kind: "monitoring" });
  assert.deepEqual(parseHash("#/nowhere/%E0%A4%A"), { kind: "monitoring" });
});

Deno.test("console cluster.xml errors: line and column come from the node's file:line:column prefix", () => {
  assert.deepEqual(errorPlace("cluster.xml:5:26: <node> attribute 'addr': invalid value"), {
    line: 5,
    column: 26,
    message: "<node> attribute 'addr': invalid value",
  });
  assert.deepEqual(errorPlace("Error: /var/safekit/cluster/cluster.xml:12:1: unclosed <lan>")?.line, 12);
  assert.equal(errorPlace("request body is not valid JSON"), null);
});

Deno.test("console resources: grouped as SafeKit's console groups them", () => {
  assert.deepEqual(
    ["state.local", "heartbeat.default", "usersetting.errd", "rfs.uptodate", "proc.httpd", "custom.c1", "foo"]
      .map(groupOf),
    ["Module status", "Module status", "Module status", "File replication", "Checkers", "Checkers", "Other"],
  );
});
