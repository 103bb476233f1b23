import assert from "node:assert/strict";
import { addrOf, commandLan, ConfigError, nodeNames, parseClusterXml } from "../../src/config/mod.ts";
import { CLUSTER_AWS_7X, CLUSTER_NAT, CLUSTER_THREE_NODES, CLUSTER_TWO_LANS } from "./spec_examples.ts";

Deno.test("cluster: the two-lan example gives nodes, addresses and defaults", () => {
  const cfg = parseClusterXml(CLUSTER_TWO_LANS);
  assert.equal(cfg.port, 4800);
  assert.equal(cfg.pulseMs, 100);
  assert.equal(cfg.mlostCount, 20);
  assert.equal(cfg.slostCount, 10);
  assert.deepEqual(cfg.lans.map((l) => [l.name, l.command]), [["default", true], ["repli", false]]);
  assert.deepEqual(nodeNames(cfg), ["node1", "node2"]);
  assert.equal(commandLan(cfg).name, "default");
  assert.equal(addrOf(cfg, "node2", "repli"), "10.0.0.2");
  assert.equal(addrOf(cfg, "node1"), "192.168.1.67");
  assert.equal(addrOf(cfg, "node3"), undefined);
  assert.deepEqual(cfg.warnings, []);
  assert.ok(Object.isFrozen(cfg.lans[0].nodes[0]));
});

Deno.test("cluster: the NAT example keeps laddr", () => {
  const cfg = parseClusterXml(CLUSTER_NAT);
  assert.deepEqual(cfg.lans[0].nodes.map((n) => [n.addr, n.laddr]), [
    ["server1.dns.name", "10.0.0.1"],
    ["server2.dns.name", "10.0.0.2"],
  ]);
});

Deno.test("cluster: 7.x console/framework attributes are ignored with warnings and command=on wins", () => {
  const cfg = parseClusterXml(CLUSTER_AWS_7X);
  assert.equal(cfg.commandLan, "default");
  assert.equal(cfg.warnings.length, 4);
  assert.match(cfg.warnings[0], /cluster\.xml:4:\d+: <lan> attribute 'console' is obsolete and ignored/);
});

Deno.test("cluster: lans attributes accept explicit values and time units", () => {
  const cfg = parseClusterXml(
    CLUSTER_THREE_NODES.replace('pulse="100"', 'pulse="1s"').replace("4800", "4900"),
  );
  assert.equal(cfg.pulseMs, 1000);
  assert.equal(cfg.port, 4900);
  assert.deepEqual(nodeNames(cfg), ["node1", "node2", "node3"]);
});

Deno.test("cluster: IPv6 literals in brackets are accepted", () => {
  const cfg = parseClusterXml(
    `<cluster><lans><lan name="v6"><node name="a" addr="[2001:db8::1]"/><node name="b" addr="[2001::7334]"/></lan></lans></cluster>`,
  );
  assert.equal(addrOf(cfg, "b", "v6"), "[2001::7334]");
});

Deno.test("cluster: without command=on the first lan not marked off is the command lan", () => {
  const cfg = parseClusterXml(
    CLUSTER_TWO_LANS.replace('<lan name="default">', '<lan name="default" command="off">'),
  );
  assert.equal(cfg.commandLan, "repli");
});

const lan = (name: string, nodes: string, attrs = "") => `<lan name="${name}"${attrs}>${nodes}</lan>`;
const N12 = `<node name="node1" addr="10.0.0.1"/><node name="node2" addr="10.0.0.2"/>`;
const wrap = (body: string, lansAttrs = "") => `<cluster>\n<lans${lansAttrs}>\n${body}\n</lans></cluster>`;

type Row = { rule: string; xml: string; error: string; at: string; nth?: number };

const rows: Row[] = [
  {
    rule: "the root must be <cluster>",
    xml: `<lans/>`,
    error: "root element must be <cluster>",
    at: "<lans",
  },
  {
    rule: "<lans> is mandatory",
    xml: `<cluster/>`,
    error: "missing mandatory element <lans>",
    at: "<cluster",
  },
  { rule: "at least one lan", xml: wrap(""), error: "expected at least one <lan> element", at: "<lans" },
  {
    rule: "a lan has at least 2 nodes",
    xml: wrap(lan("a", `<node name="n1" addr="10.0.0.1"/>`)),
    error: "lan 'a' must contain at least 2 <node> elements (found 1)",
    at: "<lan ",
  },
  {
    rule: "lan name is mandatory",
    xml: wrap(`<lan>${N12}</lan>`),
    error: "<lan>: missing mandatory attribute 'name'",
    at: "<lan>",
  },
  {
    rule: "lan names are unique",
    xml: wrap(lan("a", N12) + "\n" + lan("a", N12)),
    error: "duplicate lan name 'a'",
    at: '<lan name="a">',
    nth: 2,
  },
  {
    rule: "node names are unique in a lan",
    xml: wrap(lan("a", `<node name="n" addr="10.0.0.1"/><node name="n" addr="10.0.0.2"/>`)),
    error: "duplicate node name 'n' in lan 'a'",
    at: '<node name="n" addr="10.0.0.2"',
  },
  {
    rule: "node addresses are unique in a lan",
    xml: wrap(lan("a", `<node name="n1" addr="10.0.0.1"/><node name="n2" addr="10.0.0.1"/>`)),
    error: "address '10.0.0.1' is already used by node 'n1' in lan 'a'",
    at: '<node name="n2"',
  },
  {
    rule: "node addr is mandatory",
    xml: wrap(lan("a", `<node name="n1"/><node name="n2" addr="10.0.0.2"/>`)),
    error: "<node>: missing mandatory attribute 'addr'",
    at: '<node name="n1"',
  },
  {
    rule: "an IPv6 literal must be in brackets",
    xml: wrap(lan("a", `<node name="n1" addr="2001:db8::1"/><node name="n2" addr="10.0.0.2"/>`)),
    error: "invalid value '2001:db8::1' (expected an IPv6 literal in brackets, like [2001::7334])",
    at: 'addr="2001',
  },
  {
    rule: "a malformed IPv4 is refused",
    xml: wrap(lan("a", `<node name="n1" addr="10.0.0.256"/><node name="n2" addr="10.0.0.2"/>`)),
    error: "invalid value '10.0.0.256' (expected an IPv4 address like 192.168.1.67)",
    at: 'addr="10.0.0.256',
  },
  {
    rule: "a bad laddr is refused",
    xml: wrap(lan("a", `<node name="n1" addr="h1" laddr="bad addr"/><node name="n2" addr="h2"/>`)),
    error: "attribute 'laddr': invalid value 'bad addr'",
    at: "laddr",
  },
  {
    rule: "node names are identifiers",
    xml: wrap(lan("a", `<node name="n 1" addr="10.0.0.1"/><node name="n2" addr="10.0.0.2"/>`)),
    error: "attribute 'name': invalid value 'n 1'",
    at: 'name="n 1"',
  },
  {
    rule: "some lan must contain every node",
    xml: wrap(
      lan("a", N12) + "\n" +
        lan("b", `<node name="node1" addr="10.1.0.1"/><node name="node3" addr="10.1.0.3"/>`),
    ),
    error: "no lan contains all nodes (node1, node2, node3); lan 'a' lacks node3",
    at: "<lan ",
  },
  {
    rule: "the same address cannot name two nodes across lans",
    xml: wrap(
      lan("a", N12) + "\n" +
        lan("b", `<node name="node2" addr="10.0.0.1"/><node name="node1" addr="10.0.0.2"/>`),
    ),
    error: "address '10.0.0.1' belongs to node 'node1' in lan 'a', not to 'node2'",
    at: '<node name="node2" addr="10.0.0.1"',
  },
  {
    rule: "only one lan may set command=on",
    xml: wrap(
      lan("a", N12, ` command="on"`) + "\n" + lan("b", N12.replaceAll("10.0.0", "10.9.0"), ` command="on"`),
    ),
    error: `only one lan may set command="on" (already set on lan 'a')`,
    at: '<lan name="b"',
  },
  {
    rule: "the command lan must contain all nodes",
    xml: wrap(
      lan("a", N12, ` command="on"`) + "\n" +
        lan("b", N12.replaceAll("10.0.0", "10.9.0") + `<node name="node3" addr="10.9.0.3"/>`),
    ),
    error: "the command lan 'a' must contain all nodes (missing: node3)",
    at: "<lan ",
  },
  {
    rule: "a lan with every lan off has no command lan",
    xml: wrap(lan("a", N12, ` command="off"`)),
    error: `no command lan: every lan has command="off"`,
    at: "<lans",
  },
  {
    rule: "command is on/off",
    xml: wrap(lan("a", N12, ` command="yes"`)),
    error: "attribute 'command': invalid value 'yes' (expected on or off)",
    at: "command=",
  },
  {
    rule: "the obsolete connect attribute is refused with a migration hint",
    xml: wrap(lan("a", N12, ` connect="on"`)),
    error: "<lan> attribute 'connect': obsolete since SafeKit 8.2: remove the 'connect' attribute",
    at: "connect=",
  },
  {
    rule: "unknown lan attributes are listed",
    xml: wrap(lan("a", N12, ` comand="on"`)),
    error: "unknown attribute (allowed: name, command)",
    at: "comand=",
  },
  {
    rule: "unknown node attributes are listed",
    xml: wrap(lan("a", `<node name="n1" addr="10.0.0.1" port="1"/><node name="n2" addr="10.0.0.2"/>`)),
    error: "<node> attribute 'port': unknown attribute (allowed: name, addr, laddr)",
    at: 'port="1"',
  },
  {
    rule: "lans port is a port number",
    xml: wrap(lan("a", N12), ` port="0"`),
    error: "<lans> attribute 'port': invalid value '0' (expected an integer from 1 to 65535)",
    at: 'port="0"',
  },
  {
    rule: "lans pulse is a time in ms",
    xml: wrap(lan("a", N12), ` pulse="10us"`),
    error: "invalid value '10us' for the attribute pulse (expected time unit: 'ms')",
    at: "pulse",
  },
  {
    rule: "lans slost_count is a positive integer",
    xml: wrap(lan("a", N12), ` slost_count="many"`),
    error: "invalid value 'many' (expected an integer >= 1)",
    at: "slost_count",
  },
  {
    rule: "unknown elements in a lan are listed",
    xml: wrap(lan("a", N12 + `<host name="x"/>`)),
    error: "<host>: unknown element inside <lan> (allowed: <node>)",
    at: "<host",
  },
]; // deno-fmt-ignore

function positionOf(xml: string, marker: string, nth = 1): { line: number; column: number } {
  let offset = -1;
  for (let i = 0; i < nth; i++) offset = xml.indexOf(marker, offset + 1);
  assert.ok(offset >= 0, `marker not found: ${marker}`);
  const before = xml.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

for (const row of rows) {
  Deno.test(`cluster error: ${row.rule}`, () => {
    const { line, column } = positionOf(row.xml, row.at, row.nth);
    assert.throws(() => parseClusterXml(row.xml), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.ok(e.message.includes(row.error), `message: ${e.message}\nexpected: ${row.error}`);
      assert.ok(
        e.message.startsWith(`Error: cluster.xml:${line}:${column}: `),
        `message: ${e.message}\nexpected position ${line}:${column}`,
      );
      return true;
    });
  });
}
