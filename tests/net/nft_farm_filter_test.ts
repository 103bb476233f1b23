import assert from "node:assert/strict";
import type { LoadBalancingRule, VipConfig } from "../../src/config/module_types.ts";
import {
  bucketElements,
  bucketUpdate,
  checksumCompensation,
  criterionHash,
  defaultVirtualMac,
  FarmFilterError,
  type FarmFilterSpec,
  farmFilterSpecFromConfig,
  farmRuleset,
  farmTableName,
  ndRewriteLine,
  removeFarmRuleset,
} from "../../src/net/nft_farm_filter.ts";
import { parseMac } from "../../src/net/ip_address.ts";

const rule = (r: Partial<LoadBalancingRule>): LoadBalancingRule => ({
  virtualAddr: "*",
  port: "*",
  proto: "tcp",
  filter: "on_addr",
  ...r,
});

Deno.test("bucket elements: runs become intervals, order and duplicates do not matter", () => {
  const cases: [number[], string][] = [
    [[], ""],
    [[7], "7"],
    [[0, 1, 2, 3, 10, 200], "0-3, 10, 200"],
    [[5, 3, 4, 4, 255], "3-5, 255"],
    [Array.from({ length: 256 }, (_, i) => i), "0-255"],
    [Array.from({ length: 128 }, (_, i) => 2 * i).slice(0, 3), "0, 2, 4"],
  ];
  for (const [buckets, text] of cases) assert.equal(bucketElements(buckets), text, JSON.stringify(buckets));
  assert.throws(() => bucketElements([256]), FarmFilterError);
  assert.throws(() => bucketElements([1.5]), FarmFilterError);
});

Deno.test("criterion hash per filter and family: on_addr source address, on_port source port, on_ipid IP id", () => {
  const cases: [Partial<LoadBalancingRule>, 4 | 6, string | null][] = [
    [{ filter: "on_addr" }, 4, "jhash ip saddr mod 256 seed 0x5afe"],
    [{ filter: "on_addr" }, 6, "jhash ip6 saddr mod 256 seed 0x5afe"],
    [{ filter: "on_port", proto: "tcp" }, 4, "jhash tcp sport mod 256 seed 0x5afe"],
    [{ filter: "on_port", proto: "udp" }, 6, "jhash udp sport mod 256 seed 0x5afe"],
    [{ filter: "on_ipid", proto: "udp" }, 4, "jhash ip id mod 256 seed 0x5afe"],
    [{ filter: "on_ipid", proto: "udp" }, 6, null],
    [{ filter: "on_port", proto: "arp" }, 4, null],
  ];
  for (const [r, fam, want] of cases) {
    assert.equal(criterionHash(rule(r), fam), want, JSON.stringify([r, fam]));
  }
});

Deno.test("default virtual MAC is 5a:fe + the VIP in hex (spec: 192.168.56.20 -> 5a-fe-c0-a8-38-14)", () => {
  assert.equal(defaultVirtualMac("192.168.56.20"), "5a:fe:c0:a8:38:14");
  assert.equal(defaultVirtualMac("fd00::c0a8:3814"), "5a:fe:c0:a8:38:14");
});

const spec: FarmFilterSpec = {
  table: "safekit_farm",
  interfaces: [{ device: "eth0", virtualMac: "5A:FE:0A:00:00:32", vips: ["10.0.0.50", "fd00::50"] }],
  groups: [
    {
      name: "FarmProto",
      buckets: [0, 1, 2, 200],
      rules: [
        rule({ port: 80, filter: "on_port" }),
        rule({ virtualAddr: "10.0.0.50", proto: "udp", port: 53, filter: "on_ipid" }),
      ],
    },
    { name: "web", buckets: [], rules: [rule({ port: 443 }), rule({ proto: "arp" })] },
  ],
};
const text = farmRuleset(spec);
const lines = text.split("\n").map((l) => l.trim());
const index = (l: string) => {
  const i = lines.indexOf(l);
  assert.ok(i >= 0, `missing line: ${l}\n${text}`);
  return i;
};

Deno.test("ruleset: replaces the previous tables of the module in the same transaction", () => {
  assert.deepEqual(lines.slice(0, 6), [
    "table inet safekit_farm {}",
    "delete table inet safekit_farm",
    "table netdev safekit_farm {}",
    "delete table netdev safekit_farm",
    "table arp safekit_farm {}",
    "delete table arp safekit_farm",
  ]);
  assert.equal(removeFarmRuleset("safekit_farm"), lines.slice(0, 6).join("\n") + "\n");
});

Deno.test("ruleset: frames to the virtual MAC are made PACKET_HOST at ingress, ARP replies name the virtual MAC", () => {
  index('type filter hook ingress device "eth0" priority -500; policy accept;');
  index("ether daddr 5a:fe:0a:00:00:32 meta pkttype set host");
  index("arp operation reply arp saddr ip 10.0.0.50 arp saddr ether set 5a:fe:0a:00:00:32");
  assert.ok(!text.includes("arp saddr ip fd00"), "no ARP for an IPv6 VIP");
});

Deno.test("ruleset: one bucket set per group, empty when the node owns nothing", () => {
  assert.ok(
    text.includes("set buckets_0 {\n    type mark; flags interval;\n    elements = { 0-2, 200 }\n  }"),
  );
  assert.ok(text.includes("set buckets_1 {\n    type mark; flags interval;\n  }"));
});

Deno.test("ruleset: established flows are accepted before any bucket check; new non-SYN TCP is dropped", () => {
  const est = index("ip daddr 10.0.0.50 ct state established,related accept");
  const nonSyn = index("ip daddr 10.0.0.50 tcp flags & (syn | ack) != syn ct state new drop");
  const firstHash = lines.findIndex((l) => l.includes("meta mark set jhash"));
  assert.ok(est < nonSyn && nonSyn < firstHash);
  assert.ok(index("ip6 daddr fd00::50 ct state established,related accept") < firstHash);
  assert.ok(
    index("ip6 daddr fd00::50 meta l4proto { icmp, ipv6-icmp } accept") < firstHash,
    "ND reaches every node",
  );
});

Deno.test("ruleset: each rule hashes into meta mark, accepts its buckets, drops the rest, per VIP", () => {
  const v4 = [
    "ip daddr 10.0.0.50 tcp dport 80 meta mark set jhash tcp sport mod 256 seed 0x5afe",
    "ip daddr 10.0.0.50 tcp dport 80 meta mark @buckets_0 accept",
    "ip daddr 10.0.0.50 tcp dport 80 drop",
  ];
  assert.deepEqual(v4.map(index), v4.map((_, k) => index(v4[0]) + k));
  index("ip6 daddr fd00::50 tcp dport 80 meta mark set jhash tcp sport mod 256 seed 0x5afe");
  // a rule naming one VIP applies to it only; on_ipid never to IPv6
  index("ip daddr 10.0.0.50 udp dport 53 meta mark set jhash ip id mod 256 seed 0x5afe");
  assert.ok(!text.includes("ip6 daddr fd00::50 udp dport 53"));
  // port "*" matches the protocol; group 1 uses its own set; proto arp adds nothing
  index("ip daddr 10.0.0.50 tcp dport 443 meta mark @buckets_1 accept");
  assert.equal(lines.filter((l) => l.includes("arp") && l.includes("mark")).length, 0);
});

Deno.test("ruleset: rules keep config order, and VIP traffic matching no rule is dropped last", () => {
  const port80 = index("ip daddr 10.0.0.50 tcp dport 80 drop");
  const dns = index("ip daddr 10.0.0.50 udp dport 53 drop");
  const https = index("ip daddr 10.0.0.50 tcp dport 443 drop");
  const rest = index("ip daddr 10.0.0.50 drop");
  assert.ok(port80 < dns && dns < https && https < rest);
  assert.ok(index("ip6 daddr fd00::50 drop") > https);
});

Deno.test("ruleset: invalid names and addresses are refused before reaching nft", () => {
  const bad: [Partial<FarmFilterSpec>, RegExp][] = [
    [{ table: "x; flush ruleset" }, /invalid nft table name/],
    [
      { interfaces: [{ device: 'eth0" accept', virtualMac: "5a:fe:0:0:0:1", vips: [] }] },
      /invalid interface name/,
    ],
    [{ interfaces: [{ device: "eth0", virtualMac: "5a:fe:00:00:00", vips: [] }] }, /invalid virtual MAC/],
    [
      { interfaces: [{ device: "eth0", virtualMac: "5a:fe:00:00:00:01", vips: ["FD00::50"] }] },
      /not canonical/,
    ],
  ];
  for (const [patch, re] of bad) assert.throws(() => farmRuleset({ ...spec, ...patch }), re);
});

Deno.test("bucket update: flush and refill in one transaction; closing traffic only flushes", () => {
  assert.equal(
    bucketUpdate("safekit_farm", 0, [86, 87, 88, 170]),
    "flush set inet safekit_farm buckets_0\nadd element inet safekit_farm buckets_0 { 86-88, 170 }\n",
  );
  assert.equal(bucketUpdate("safekit_farm", 1, []), "flush set inet safekit_farm buckets_1\n");
});

Deno.test("spec from <vip>: alias VIPs of virtual interfaces, virtual MAC by type, groups in order", () => {
  const vip: VipConfig = {
    tcpReset: true,
    scriptControl: false,
    interfaces: [
      {
        check: true,
        arpReroute: false,
        arpIntervalMs: 60_000,
        arpElapseMs: 1_200_000,
        kind: "virtual",
        virtualInterfaceType: "vmac_invisible",
        virtualMac: "5a:fe:01:02:03:04",
        virtualAddrs: [
          { addr: "192.168.1.222", where: "alias", check: true, connections: false },
          { addr: "192.168.1.223", where: "one_side_alias", check: true, connections: false },
        ],
      },
      {
        check: true,
        arpReroute: false,
        arpIntervalMs: 60_000,
        arpElapseMs: 1_200_000,
        kind: "virtual",
        virtualInterfaceType: "vmac_directed",
        virtualMac: "5a:fe:09:09:09:09",
        virtualAddrs: [{ addr: "10.1.0.7", where: "alias", check: true, connections: false }],
      },
    ],
    loadBalancing: [
      { name: "FarmProto", hosts: [], rules: [rule({ port: 80, filter: "on_port" })] },
      { name: "Other", hosts: [], rules: [] },
    ],
  };
  const s = farmFilterSpecFromConfig(
    "my-farm",
    vip,
    (v) => (v.startsWith("10.") ? "eth1" : "eth0"),
    (g) => g === "FarmProto" ? [1, 2] : [],
  );
  assert.equal(s.table, "safekit_my_farm");
  assert.equal(farmTableName("farm"), "safekit_farm");
  assert.deepEqual(s.interfaces, [
    { device: "eth0", virtualMac: "5a:fe:01:02:03:04", vips: ["192.168.1.222"] },
    // vmac_directed ignores virtual_interface@addr (spec) and is served with the default virtual MAC
    { device: "eth1", virtualMac: "5a:fe:0a:01:00:07", vips: ["10.1.0.7"] },
  ]);
  assert.deepEqual(s.groups.map((g) => [g.name, g.buckets]), [["FarmProto", [1, 2]], ["Other", []]]);
});

/** ICMPv6 checksum (RFC 4443 §2.3) of `msg` between two addresses, over the IPv6 pseudo-header. */
function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, msg: Uint8Array): number {
  const bytes = new Uint8Array(40 + msg.length + (msg.length % 2));
  bytes.set(src, 0);
  bytes.set(dst, 16);
  new DataView(bytes.buffer).setUint32(32, msg.length);
  bytes[39] = 58;
  bytes.set(msg, 40);
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

Deno.test("IPv6 NA rewrite: the new MAC plus the compensation word keep the ICMPv6 checksum valid", () => {
  const macs = [
    ["02:00:00:00:00:01", "5a:fe:00:00:00:50"],
    ["a2:e9:72:e7:b2:c3", "5a:fe:0a:63:00:32"],
    ["ff:ff:ff:ff:ff:fe", "5a:fe:00:00:00:00"],
    ["00:00:00:00:00:00", "5a:fe:ff:ff:ff:ff"],
  ];
  const src = new Uint8Array(16).fill(0xfd, 0, 1), dst = new Uint8Array(16).fill(0xfe, 0, 1);
  src[15] = 0x50;
  dst[15] = 0x64;
  for (const [real, virtual] of macs) {
    const from = parseMac(real)!, to = parseMac(virtual)!;
    const na = new Uint8Array(32);
    na[0] = 136;
    na[4] = 0x60; // S + O
    na.set(src, 8);
    na[24] = 2;
    na[25] = 1;
    na.set(from, 26);
    const csum = icmpv6Checksum(src, dst, na);
    na[2] = csum >> 8;
    na[3] = csum & 0xff;
    assert.equal(icmpv6Checksum(src, dst, na), 0, "valid before");
    // what the nft rule does: MAC replaced, reserved low word set, checksum untouched
    na.set(to, 26);
    const fix = checksumCompensation(from, to);
    na[6] = fix >> 8;
    na[7] = fix & 0xff;
    assert.equal(icmpv6Checksum(src, dst, na), 0, `valid after ${real} -> ${virtual}`);
  }
});

Deno.test("IPv6 NA rewrite: one output rule per IPv6 VIP, matching the device's own MAC, only with realMac", () => {
  assert.equal(
    ndRewriteLine("eth0", "fd00::50", "02:00:00:00:00:01", "5a:fe:00:00:00:50"),
    'oifname "eth0" icmpv6 type nd-neighbor-advert @th,64,128 0xfd000000000000000000000000000050 ' +
      "@th,192,16 0x0201 @th,208,48 0x020000000001 @th,208,48 set 0x5afe00000050 @th,48,16 set 0xa6b2",
  );
  const withMac = farmRuleset({
    ...spec,
    interfaces: [{ ...spec.interfaces[0], realMac: "02:00:00:00:00:01" }],
  });
  assert.match(
    withMac,
    /chain announce6 \{\n\s+type filter hook output priority 0; policy accept;\n\s+oifname "eth0"/,
  );
  assert.equal(withMac.match(/nd-neighbor-advert/g)?.length, 1, "the IPv4 VIP gets no NA rule");
  assert.ok(!text.includes("announce6"), "no NA rewrite without the device's MAC");
  assert.throws(
    () => farmRuleset({ ...spec, interfaces: [{ ...spec.interfaces[0], realMac: "zz" }] }),
    FarmFilterError,
  );
});

Deno.test("spec from <vip>: macOf gives each device's own MAC to the spec", () => {
  const vip: VipConfig = {
    tcpReset: true,
    scriptControl: false,
    interfaces: [{
      check: true,
      arpReroute: false,
      arpIntervalMs: 60_000,
      arpElapseMs: 1_200_000,
      kind: "virtual",
      virtualInterfaceType: "vmac_invisible",
      virtualAddrs: [{ addr: "fd00::50", where: "alias", check: true, connections: false }],
    }],
    loadBalancing: [],
  };
  const s = farmFilterSpecFromConfig(
    "m",
    vip,
    () => "eth1",
    () => [],
    (d) => (d === "eth1" ? "02:00:00:00:00:09" : undefined),
  );
  assert.equal(s.interfaces[0].realMac, "02:00:00:00:00:09");
  assert.equal(farmFilterSpecFromConfig("m", vip, () => "eth1").interfaces[0].realMac, undefined);
});
