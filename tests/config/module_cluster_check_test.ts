import assert from "node:assert/strict";
import {
  ConfigError,
  moduleClusterErrors,
  parseClusterXml,
  parseUserConfig,
  validateModuleAgainstCluster,
} from "../../src/config/mod.ts";
import {
  AWS_MIRROR_7X,
  CLUSTER_THREE_NODES,
  CLUSTER_TWO_LANS,
  FARM_POWER,
  FARM_SAFE,
} from "./spec_examples.ts";

const cluster = parseClusterXml(CLUSTER_TWO_LANS);

Deno.test("module vs cluster: spec examples fit their cluster", () => {
  validateModuleAgainstCluster(parseUserConfig(AWS_MIRROR_7X), cluster);
  validateModuleAgainstCluster(parseUserConfig(FARM_SAFE), cluster);
  validateModuleAgainstCluster(parseUserConfig(FARM_POWER), parseClusterXml(CLUSTER_THREE_NODES));
});

const rows: { rule: string; xml: string; error: string; line: number; column: number }[] = [
  {
    rule: "a heartbeat names a cluster lan",
    xml: `<safe><service mode="mirror">\n<heart><heartbeat name="private"/></heart></service></safe>`,
    error:
      "<heartbeat> attribute 'name': lan 'private' is not defined in cluster.xml (cluster lans: default, repli)",
    line: 2,
    column: 8,
  },
  {
    rule: "a farm lan names a cluster lan",
    xml: `<safe><service mode="farm">\n<farm><lan name="public"/></farm></service></safe>`,
    error: "<lan> attribute 'name': lan 'public' is not defined in cluster.xml",
    line: 2,
    column: 7,
  },
  {
    rule: "a legacy rfs <flow> names a cluster lan",
    xml:
      `<safe><service mode="mirror"><heart><heartbeat name="default"/></heart>\n<rfs><replicated dir="/d"/><flow name="x"/></rfs></service></safe>`,
    error: "<flow> attribute 'name': lan 'x' is not defined",
    line: 2,
    column: 28,
  },
  {
    rule: "a load-balancing host is a cluster node",
    xml: FARM_POWER,
    error: "<host> attribute 'name': node 'node3' is not defined in cluster.xml (nodes: node1, node2)",
    line: 17,
    column: 11,
  },
  {
    rule: "defaultprim names a cluster node",
    xml:
      `<safe><service mode="mirror" defaultprim="node9"><heart><heartbeat name="default"/></heart></service></safe>`,
    error: "<service> attribute 'defaultprim': node 'node9' is not defined in cluster.xml",
    line: 1,
    column: 30,
  },
];

for (const row of rows) {
  Deno.test(`module vs cluster: ${row.rule}`, () => {
    const module = parseUserConfig(row.xml);
    assert.throws(() => validateModuleAgainstCluster(module, cluster), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.message.includes(row.error), e.message);
      assert.equal(`${e.line}:${e.column}`, `${row.line}:${row.column}`, e.message);
      return true;
    });
  });
}

Deno.test("module vs cluster: moduleClusterErrors lists every mismatch", () => {
  const module = parseUserConfig(
    `<safe><service mode="mirror"><heart><heartbeat name="a"/><heartbeat name="b"/></heart></service></safe>`,
  );
  assert.deepEqual(moduleClusterErrors(module, cluster).map((e) => e.message.match(/lan '(\w+)'/)?.[1]), [
    "a",
    "b",
  ]);
});

Deno.test("module vs cluster: legacy <server> heartbeats are not checked against lans", () => {
  const module = parseUserConfig(
    `<safe><service mode="mirror"><heart><heartbeat><server addr="10.0.0.1"/><server addr="10.0.0.2"/></heartbeat></heart></service></safe>`,
  );
  assert.deepEqual(module.heart?.heartbeats[0].legacyServers, ["10.0.0.1", "10.0.0.2"]);
  assert.deepEqual(moduleClusterErrors(module, cluster), []);
});
