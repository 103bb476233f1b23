import assert from "node:assert/strict";
import { ipChecker, ipProbe } from "../../src/checkers/ip_checker.ts";
import { skipUnless } from "../support/privileges.ts";
import { probeInNetns, sh, withNetns } from "./support/netns.ts";

Deno.test("ip probe: up when an interface lists the address, down with the reason otherwise", () => {
  const list = [{ name: "lo", address: "127.0.0.1" }, { name: "eth0", address: "10.0.0.129" }];
  assert.deepEqual(ipProbe("10.0.0.129", list), { up: true });
  assert.deepEqual(ipProbe("10.0.0.130", list), {
    up: false,
    detail: "10.0.0.130 is not configured on any interface",
  });
});

Deno.test("ip checker: 127.0.0.1 is configured here, an unlisted 127.x is not", async () => {
  const seen: string[] = [];
  const a = ipChecker("ip.lo", { addr: "127.0.0.1", intervalMs: 50 });
  const b = ipChecker("ip.vip", { addr: "127.0.0.58", intervalMs: 50 });
  a.start((r, v) => seen.push(`${r}=${v}`));
  b.start((r, v) => seen.push(`${r}=${v}`));
  while (seen.length < 2) await new Promise((r) => setTimeout(r, 10));
  await Promise.all([a.stop(), b.stop()]);
  assert.deepEqual(seen.sort(), ["ip.lo=up", "ip.vip=down"]);
});

Deno.test("ip checker follows an address added to and removed from an interface in a test namespace", async () => {
  if (skipUnless({ root: true, commands: ["ip"] }) !== null) return;
  await withNetns(async (ns) => {
    const probe = () => probeInNetns(ns, { kind: "ip", addr: "127.0.0.51" });
    await sh(`ip -n ${ns} link add vip0 type veth peer name vip1`);
    assert.equal((await probe()).up, false);
    await sh(`ip -n ${ns} addr add 127.0.0.51/32 dev vip0`);
    assert.deepEqual(await probe(), { up: true });
    await sh(`ip -n ${ns} addr del 127.0.0.51/32 dev vip0`);
    assert.equal((await probe()).up, false);
  });
});
