import assert from "node:assert/strict";
import { parseClusterXml, parseUserConfig, validateModuleAgainstCluster } from "../../src/config/mod.ts";
import {
  ALL_USERCONFIG_EXAMPLES,
  AWS_FARM_7X,
  AWS_MIRROR_7X,
  CLUSTER_THREE_NODES,
  CLUSTER_TWO_LANS,
  FARM_POWER,
  FARM_SAFE,
  FOLLOWER,
  FOLLOWER_EXPLICIT,
  HYPERV,
  MIRROR_FULL,
  MIRROR_SAFE,
  SOFTERRD,
} from "./spec_examples.ts";

for (const [name, text] of Object.entries(ALL_USERCONFIG_EXAMPLES)) {
  Deno.test(`userconfig: the spec example '${name}' parses into a frozen config`, () => {
    const cfg = parseUserConfig(text);
    assert.ok(Object.isFrozen(cfg));
    assert.ok(["mirror", "farm", "light"].includes(cfg.mode));
  });
}

Deno.test("userconfig: mirror.safe gives its heartbeat, VIP, replicated dir and expanded macro", () => {
  const cfg = parseUserConfig(MIRROR_SAFE);
  assert.equal(cfg.mode, "mirror");
  assert.equal(cfg.boot, "on");
  assert.deepEqual(cfg.heart?.heartbeats.map((h) => [h.name, h.resource, h.pulseMs, h.timeoutMs]), [
    ["default", "heartbeat.default", 700, 30000],
  ]);
  assert.equal(cfg.heart?.permanentArp, true);
  const itf = cfg.vip!.interfaces[0];
  assert.equal(itf.kind, "real");
  assert.deepEqual(itf.virtualAddrs[0], {
    addr: "10.1.0.126",
    where: "one_side_alias",
    check: true,
    connections: false,
    netmask: undefined,
  });
  assert.equal(cfg.rfs?.replicated[0].dir, "e:\\repdir");
  assert.deepEqual(cfg.user?.vars, [{ name: "SERVICES", value: "service1, service2" }]);
  assert.deepEqual(cfg.macros, [{ name: "SERVICES", value: "service1, service2" }]);
});

Deno.test("userconfig: service defaults apply when attributes are absent", () => {
  const cfg = parseUserConfig(MIRROR_SAFE);
  assert.equal(cfg.bootDelayMs, 0);
  assert.equal(cfg.failover, true);
  assert.deepEqual(cfg.defaultPrim, { kind: "alone" });
  assert.equal(cfg.maxLoop, 3);
  assert.equal(cfg.loopIntervalMs, 24 * 3600_000);
  assert.equal(cfg.automaticReboot, false);
  assert.equal(cfg.vip?.tcpReset, true);
  assert.equal(cfg.vip?.interfaces[0].arpIntervalMs, 60_000);
  assert.equal(cfg.vip?.interfaces[0].arpElapseMs, 1_200_000);
});

Deno.test("userconfig: rfs defaults match the spec", () => {
  const rfs = parseUserConfig(MIRROR_SAFE).rfs!;
  assert.equal(rfs.acl, false);
  assert.equal(rfs.async, "second");
  assert.equal(rfs.ioTimeoutMs, 300_000);
  assert.equal(rfs.roFlags, 0x10);
  assert.equal(rfs.lockTimeoutMs, 100_000);
  assert.equal(rfs.sendTimeoutMs, 30_000);
  assert.equal(rfs.nbRei, 6);
  assert.equal(rfs.reiPacketSize, 8388608);
  assert.equal(rfs.ruZoneBlockSize, 8388608);
  assert.equal(rfs.namespacePolicy, 4);
  assert.equal(rfs.reiTimeoutMs, 150_000);
  assert.equal(rfs.nbRemConn, 1);
  assert.equal(rfs.checkTimeMs, 220_000);
  assert.equal(rfs.checkIntervalMs, 120_000);
  assert.equal(rfs.syncDeltaMs, 0);
  assert.equal(rfs.mountOverSuffix, "_For_SafeKit_Replication");
  assert.equal(rfs.reiAllowedBandwidth, undefined);
});

Deno.test("userconfig: farm.safe gives a vmac_directed interface and a FarmProto group", () => {
  const cfg = parseUserConfig(FARM_SAFE);
  assert.equal(cfg.mode, "farm");
  assert.deepEqual(cfg.farm?.lans.map((l) => l.name), ["default"]);
  assert.equal(cfg.farm?.pulseMs, 100);
  assert.equal(cfg.farm?.mlostCount, 20);
  assert.equal(cfg.farm?.slostCount, 10);
  assert.equal(cfg.vip?.interfaces[0].virtualInterfaceType, "vmac_directed");
  assert.equal(cfg.vip?.scriptControl, false);
  assert.deepEqual(cfg.vip?.loadBalancing, [{
    name: "FarmProto",
    hosts: [],
    rules: [{ virtualAddr: "*", port: 9010, proto: "tcp", filter: "on_port" }],
  }]);
});

Deno.test("userconfig: the farm power example gives each group its own weights", () => {
  const cfg = parseUserConfig(FARM_POWER);
  const powers = cfg.vip!.loadBalancing.map((
    g,
  ) => [g.name, g.hosts.map((h) => `${h.name}=${h.power}`).join(" ")]);
  assert.deepEqual(powers, [
    ["http_service", "node1=3 node2=1 node3=1"],
    ["https_service", "node1=1 node2=3 node3=1"],
    ["httpproxy_service", "node1=1 node2=1 node3=3"],
  ]);
  validateModuleAgainstCluster(cfg, parseClusterXml(CLUSTER_THREE_NODES));
});

Deno.test("userconfig: softerrd actions distinguish built-in actions from handlers", () => {
  const procs = parseUserConfig(SOFTERRD).errd!.procs;
  assert.deepEqual(procs.map((p) => [p.resource, p.action, p.class, p.atLeast, p.atMax]), [
    ["proc.mybin.exe", { kind: "restart" }, "prim", 1, -1],
    ["proc.myotherbin.exe", { kind: "stop" }, "second", 1, -1],
    ["proc.myappli.exe", { kind: "handler", exe: "restart_myappli" }, "myappli", 1, -1],
  ]);
  assert.equal(parseUserConfig(SOFTERRD).errd!.pollTimerMs, 30_000);
});

Deno.test("userconfig: a follower's module checker defaults to 127.0.0.1:9010", () => {
  for (const text of [FOLLOWER, FOLLOWER_EXPLICIT]) {
    const [checker] = parseUserConfig(text).check!;
    assert.equal(checker.kind, "module");
    if (checker.kind !== "module") return;
    assert.equal(checker.name, "leader");
    assert.equal(checker.to.addr, "127.0.0.1");
    assert.equal(checker.to.port, 9010);
    assert.equal(checker.to.secure, false);
    assert.equal(checker.to.intervalMs, 10_000);
  }
  assert.equal(parseUserConfig(FOLLOWER).check![0].resource, "module.leader");
});

Deno.test("userconfig: 7.x values without unit use each attribute's default unit", () => {
  const cfg = parseUserConfig(AWS_MIRROR_7X);
  assert.equal(cfg.heart?.pulseMs, 700);
  assert.equal(cfg.heart?.timeoutMs, 30000);
  assert.equal(cfg.heart?.heartbeats[0].resource, "heartbeat.flow");
  assert.equal(cfg.loopIntervalMs, 24 * 3600_000);
  assert.equal(cfg.rfs?.lockTimeoutMs, 200_000);
  assert.equal(cfg.rfs?.mountOver, false);
  assert.equal(cfg.rfs?.nbRei, 3);
  assert.equal(cfg.rfs?.nbRemConn, 4);
  assert.equal(cfg.rfs?.replicated[0].readOnly, true);
  const farm = parseUserConfig(AWS_FARM_7X);
  assert.equal(farm.loopIntervalMs, 24 * 3600_000);
  assert.equal(farm.maxLoop, 3);
});

Deno.test("userconfig: hyperv.safe expands macros inside the replicated dir", () => {
  const rfs = parseUserConfig(HYPERV).rfs!;
  assert.equal(rfs.replicated[0].dir, "c:\\Hyper-V\\vm1");
  assert.equal(rfs.scripts, true);
  assert.equal(rfs.acl, true);
  assert.equal(rfs.namespacePolicy, 0);
  assert.equal(rfs.allocThreshold, 10);
});

Deno.test("userconfig: a module using every element keeps every value, times in ms", () => {
  const cfg = parseUserConfig(MIRROR_FULL);
  assert.equal(cfg.boot, "auto");
  assert.equal(cfg.bootDelayMs, 120_000);
  assert.deepEqual(cfg.defaultPrim, { kind: "node", node: "node1", at: { line: 2, column: 52 } });
  assert.equal(cfg.loopIntervalMs, 12 * 3600_000);
  assert.equal(cfg.automaticReboot, true);
  assert.equal(cfg.heart?.port, 9000);
  assert.deepEqual(cfg.heart?.heartbeats.map((h) => [h.resource, h.pulseMs, h.timeoutMs]), [
    ["heartbeat.default", 500, 20_000],
    ["heartbeat.flow", 1000, 60_000],
  ]);
  const rfs = cfg.rfs!;
  assert.equal(rfs.ioTimeoutMs, 300_000);
  assert.equal(rfs.sendTimeoutMs, 30_000);
  assert.equal(rfs.syncDeltaMs, 3600_000);
  assert.equal(rfs.syncAt, "01 0 * * *");
  assert.equal(rfs.roFlags, 0x10000);
  assert.equal(rfs.nfsboxOptions, "nocross");
  assert.deepEqual(rfs.replicated[0], {
    dir: "/var/data",
    readOnly: true,
    toCheck: ["marker.txt"],
    notReplicatedPaths: ["tmp"],
    notReplicatedRegexps: ["\\.log$", "!^keep"],
  });
  assert.equal(cfg.vip?.interfaces[0].arpElapseMs, 600_000);
  assert.equal(cfg.vip?.interfaces[0].virtualAddrs[1].where, "one_side");
  assert.deepEqual(cfg.user, {
    niceStopTimeoutMs: 60_000,
    forceStopTimeoutMs: 120_000,
    logging: "none",
    userLogSizeKb: 4096,
    vars: [{ name: "APP", value: "myapp" }],
  });
  assert.deepEqual(cfg.vhost, [{ name: "vhost1", envFile: "vhostenv", when: "both" }]);
  assert.deepEqual(cfg.errd?.procs[1].restartServices, ["S2", "S3"]);
  assert.equal(cfg.errd?.procs[1].service, true);
  assert.equal(cfg.errd?.procs[1].startAfter, 3);
  assert.deepEqual(cfg.check?.map((c) => c.resource), [
    "tcp.R1test",
    "ping.testR2",
    "intf.10.0.0.0",
    "ip.10.0.0.129",
    "custom.AppChecker",
    "module.db",
    "splitbrain.witness",
  ]);
  const ping = cfg.check![1];
  assert.ok(ping.kind === "ping" && ping.when === "pre" && ping.action === "wait");
  const tcp = cfg.check![0];
  assert.ok(
    tcp.kind === "tcp" && tcp.to.port === 80 && tcp.to.intervalMs === 5000 && tcp.to.timeoutMs === 2000,
  );
  const f = cfg.failoverRules!;
  assert.equal(f.extends, true);
  assert.equal(f.periodMs, 2000);
  assert.equal(f.handleTimeMs, 6000);
  assert.deepEqual(f.sections.map((s) => [s.language, s.line]), [["safekit", 50], ["lua", 53]]);
  assert.match(f.sections[0].text, /checkfile_failure: if\( custom\.checkfile == down \) then restart\(\);/);
});

Deno.test("userconfig: failover defaults are period 5000 ms and handle_time 15000 ms", () => {
  const cfg = parseUserConfig(
    `<safe><service mode="light"><failover><![CDATA[x: if (a.b == down) then wait();]]></failover>
</service></safe>`,
  );
  assert.equal(cfg.failoverRules?.periodMs, 5000);
  assert.equal(cfg.failoverRules?.handleTimeMs, 15000);
  assert.equal(cfg.failoverRules?.extends, true);
  assert.deepEqual(cfg.failoverRules?.sections.map((s) => [s.line, s.column]), [[1, 48]]);
});

Deno.test("userconfig: the parsed config is deeply frozen", () => {
  const cfg = parseUserConfig(MIRROR_FULL);
  assert.throws(() => {
    (cfg.heart!.heartbeats as unknown as unknown[]).push({});
  }, TypeError);
  assert.throws(() => {
    (cfg.rfs!.replicated[0] as { dir: string }).dir = "/";
  }, TypeError);
});

Deno.test("userconfig: heartbeats and farm lans match the cluster lans", () => {
  validateModuleAgainstCluster(parseUserConfig(MIRROR_FULL), parseClusterXml(CLUSTER_TWO_LANS));
});
