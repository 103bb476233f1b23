import assert from "node:assert/strict";
import { canonicalIp, inSubnet, netmaskToPrefix, parseIp } from "../../src/net/ip_address.ts";
import { findAddress, parseIpAddrJson, placeVip, VipPlacementError } from "../../src/net/ip_links.ts";

// `ip -j addr show` of a node: loopback, a down ifb, eth0 (two subnets), eth1 (IPv6 only), and the VIP
// already set on eth2.
const FIXTURE = JSON.stringify([
  {
    ifindex: 1,
    ifname: "lo",
    flags: ["LOOPBACK", "UP", "LOWER_UP"],
    address: "00:00:00:00:00:00",
    addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8 }, {
      family: "inet6",
      local: "::1",
      prefixlen: 128,
    }],
  },
  { ifindex: 2, ifname: "ifb0", flags: ["BROADCAST", "NOARP"], address: "62:a1:2a:55:d8:db", addr_info: [] },
  {
    ifindex: 4,
    ifname: "eth0",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    address: "02:fc:00:00:00:01",
    addr_info: [
      { family: "inet", local: "192.168.1.10", prefixlen: 24, broadcast: "192.168.1.255", scope: "global" },
      { family: "inet", local: "10.0.0.10", prefixlen: 16, scope: "global" },
      { family: "inet6", local: "fe80::fc:ff:fe00:1", prefixlen: 64, scope: "link" },
    ],
  },
  {
    ifindex: 5,
    ifname: "eth1",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    address: "02:fc:00:00:00:02",
    addr_info: [{ family: "inet6", local: "fd00::2", prefixlen: 64, scope: "global", nodad: true }],
  },
  {
    ifindex: 6,
    ifname: "eth2",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    address: "02:fc:00:00:00:03",
    addr_info: [
      { family: "inet", local: "172.16.5.1", prefixlen: 24 },
      { family: "inet", local: "172.16.5.50", prefixlen: 24 },
      { family: "inet", local: "10.0.9.1", prefixlen: 24 },
    ],
  },
]);
const links = parseIpAddrJson(FIXTURE);

Deno.test("ip -j addr JSON becomes links with their IPv4 and IPv6 addresses", () => {
  assert.deepEqual(links.map((l) => [l.ifname, l.up, l.loopback, l.addrs.length]), [
    ["lo", true, true, 2],
    ["ifb0", false, false, 0],
    ["eth0", true, false, 3],
    ["eth1", true, false, 1],
    ["eth2", true, false, 3],
  ]);
  assert.deepEqual(links[3].addrs[0], { family: 6, local: "fd00::2", prefixLen: 64 });
});

const placements: [string, Parameters<typeof placeVip>[0], string | [string, number]][] = [
  ["detected from the subnet that contains it", { addr: "192.168.1.222" }, ["eth0", 24]],
  ["netmask overrides the interface's prefix", { addr: "192.168.1.222", netmask: "255.255.255.128" }, [
    "eth0",
    25,
  ]],
  ["netmask as a prefix length", { addr: "192.168.1.222", netmask: "26" }, ["eth0", 26]],
  ["the most specific subnet wins (10.0.9.0/24 over 10.0.0.0/16)", { addr: "10.0.9.7" }, ["eth2", 24]],
  ["IPv6 by its /64", { addr: "fd00::50" }, ["eth1", 64]],
  ["named interface, prefix of its subnet", { addr: "10.0.3.3", interfaceName: "eth0" }, ["eth0", 16]],
  [
    "named interface outside its subnets takes its first prefix",
    { addr: "10.5.0.1", interfaceName: "eth2" },
    ["eth2", 24],
  ],
  ["no subnet contains it", { addr: "203.0.113.9" }, "no interface has a subnet containing VIP 203.0.113.9"],
  ["loopback never carries a VIP", { addr: "127.0.0.9" }, "no interface has a subnet containing"],
  [
    "unknown interface",
    { addr: "10.0.3.3", interfaceName: "bond0" },
    "interface 'bond0' (for VIP 10.0.3.3) does not",
  ],
  ["IPv6 VIP on an IPv4-only interface", { addr: "fd01::1", interfaceName: "eth2" }, "has no IPv6 address"],
  ["bad netmask", { addr: "192.168.1.222", netmask: "255.0.255.0" }, "invalid netmask '255.0.255.0'"],
  ["not an address", { addr: "vip.example" }, "is not an IPv4 or IPv6 address"],
];
for (const [name, target, want] of placements) {
  Deno.test(`VIP placement: ${name}`, () => {
    if (typeof want === "string") {
      assert.throws(
        () => placeVip(target, links),
        (e) => e instanceof VipPlacementError && e.message.includes(want),
      );
    } else {
      const p = placeVip(target, links);
      assert.deepEqual([p.ifname, p.prefixLen], want);
    }
  });
}

Deno.test("VIP placement: a subnet on two interfaces is ambiguous and asks for interface@name", () => {
  const twice = parseIpAddrJson(JSON.stringify([
    { ifname: "eth0", flags: ["UP"], addr_info: [{ family: "inet", local: "10.1.0.1", prefixlen: 24 }] },
    { ifname: "eth1", flags: ["UP"], addr_info: [{ family: "inet", local: "10.1.0.2", prefixlen: 24 }] },
  ]));
  assert.throws(
    () => placeVip({ addr: "10.1.0.50" }, twice),
    /several interfaces \(eth0, eth1\): set interface@name/,
  );
});

Deno.test("findAddress: a VIP already set is found where it is, whatever its IPv6 spelling", () => {
  assert.deepEqual(findAddress(links, "172.16.5.50"), {
    ifname: "eth2",
    family: 4,
    addr: "172.16.5.50",
    prefixLen: 24,
  });
  assert.equal(findAddress(links, "fd00:0:0::2")?.ifname, "eth1");
  assert.equal(findAddress(links, "172.16.5.51"), null);
  // the VIP's own /24 on eth2 does not make eth2 a candidate twice: detection still picks eth2's subnet
  assert.deepEqual(placeVip({ addr: "172.16.5.50" }, links).ifname, "eth2");
});

Deno.test("addresses: parsing, canonical IPv6 text, subnets and netmasks", () => {
  assert.equal(canonicalIp("FD00:0000:0:0:0:0:0:0050"), "fd00::50");
  assert.equal(canonicalIp("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  assert.equal(canonicalIp("::"), "::");
  assert.equal(canonicalIp("::ffff:1.2.3.4"), "::ffff:102:304");
  assert.equal(canonicalIp("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
  assert.equal(parseIp("1::2::3"), null);
  assert.equal(parseIp("256.1.1.1"), null);
  assert.equal(parseIp("1:2:3:4:5:6:7:8:9"), null);
  assert.ok(inSubnet(parseIp("10.0.9.7")!.bytes, parseIp("10.0.0.10")!.bytes, 16));
  assert.ok(!inSubnet(parseIp("10.1.9.7")!.bytes, parseIp("10.0.0.10")!.bytes, 16));
  assert.ok(inSubnet(parseIp("fd00::50")!.bytes, parseIp("fd00::2")!.bytes, 64));
  assert.deepEqual(
    ["255.255.255.0", "255.255.255.255", "0.0.0.0", "255.255.254.0", "255.0.255.0", "33"].map((m) =>
      netmaskToPrefix(m, 4)
    ),
    [24, 32, 0, 23, null, null],
  );
  assert.equal(netmaskToPrefix("64", 6), 64);
});
