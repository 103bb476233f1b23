import assert from "node:assert/strict";
import {
  connectionsResourceName,
  connectionsSsArgs,
  countConnections,
} from "../../src/net/vip_connections.ts";

// `ss -H -t -n state established src X` output: Recv-Q Send-Q Local:Port Peer:Port
const ss = [
  "0      0      10.0.0.50:80       10.0.0.100:51234",
  "0      0      10.0.0.50:80       10.0.0.101:40000",
  "0      0      10.0.0.5:22        10.0.0.100:50000",
  "0      0      [fd00::50]:8080    [fd00::100]:41000",
  "0      0      [fe80::1%eth0]:80  [fe80::2%eth0]:1",
  "",
].join("\n");

Deno.test("connections: counts established sockets whose local address is the VIP, IPv4 and IPv6", () => {
  assert.equal(countConnections(ss, "10.0.0.50"), 2);
  assert.equal(countConnections(ss, "fd00::50"), 1);
  assert.equal(countConnections(ss, "fd00:0::0050"), 1);
  assert.equal(countConnections(ss, "10.0.0.51"), 0);
  assert.equal(countConnections("", "10.0.0.50"), 0);
});

Deno.test("connections: ss filter per family and the resource name of spec §4.6", () => {
  assert.deepEqual(connectionsSsArgs("10.0.0.50"), [
    "-H",
    "-t",
    "-n",
    "state",
    "established",
    "src",
    "10.0.0.50",
  ]);
  assert.deepEqual(connectionsSsArgs("FD00::50").slice(-1), ["[fd00::50]"]);
  assert.throws(() => connectionsSsArgs("nope"), /not an IP address/);
  assert.equal(connectionsResourceName("192.168.1.222"), "connections.192.168.1.222");
});
