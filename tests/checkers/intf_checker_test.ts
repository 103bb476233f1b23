import assert from "node:assert/strict";
import { interfaceOf, intfProbe, linkStatus } from "../../src/checkers/intf_checker.ts";
import { skipUnless } from "../support/privileges.ts";
import { probeInNetns, sh, withNetns } from "./support/netns.ts";

const statuses: [string, string | null, boolean, string?][] = [
  ["up", "1", true],
  ["unknown", "1", true], // loopback
  ["down", null, false, "link is down"],
  ["lowerlayerdown", "0", false, "link is lowerlayerdown"],
  ["up", "0", false, "no carrier"],
  ["up\n", "1\n", true],
];
for (const [op, carrier, up, detail] of statuses) {
  Deno.test(`intf link status: operstate ${op.trim()} carrier ${carrier?.trim() ?? "unreadable"} is ${up ? "up" : "down"}`, () => {
    assert.deepEqual(linkStatus(op, carrier), up ? { up } : { up, detail });
  });
}

Deno.test("the interface is found by its address", () => {
  const list = [{ name: "lo", address: "127.0.0.1" }, { name: "eth0", address: "fe80::1%eth0" }];
  assert.equal(interfaceOf("127.0.0.1", list), "lo");
  assert.equal(interfaceOf("[fe80::1]", list), "eth0");
  assert.equal(interfaceOf("10.1.1.1", list), null);
});

Deno.test("intf probe of the loopback address is up on this host", async () => {
  assert.deepEqual(await intfProbe("127.0.0.1", "/sys/class/net", Deno.networkInterfaces), { up: true });
  assert.equal((await intfProbe("127.0.0.59", "/sys/class/net", Deno.networkInterfaces)).up, false);
});

Deno.test("intf checker follows a veth link set down and up inside a test namespace", async () => {
  if (skipUnless({ root: true, commands: ["ip"] }) !== null) return;
  await withNetns(async (ns) => {
    const probe = () => probeInNetns(ns, { kind: "intf", localAddr: "127.0.0.50" });
    await sh(`ip -n ${ns} link add va type veth peer name vb`);
    await sh(`ip -n ${ns} addr add 127.0.0.50/32 dev va`);
    assert.deepEqual(await probe(), { up: false, detail: "interface va: link is down" });
    await sh(`ip -n ${ns} link set va up && ip -n ${ns} link set vb up`);
    await waitUp(probe);
    // The peer going down takes the carrier away: va itself stays administratively up.
    await sh(`ip -n ${ns} link set vb down`);
    assert.deepEqual(await probe(), { up: false, detail: "interface va: link is lowerlayerdown" });
    await sh(`ip -n ${ns} link set vb up`);
    await waitUp(probe);
  });
});

async function waitUp(probe: () => Promise<{ up: boolean; detail?: string }>): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const r = await probe();
    if (r.up) return;
    await new Promise((r) => setTimeout(r, 100)); // a veth carrier comes up asynchronously
  }
  assert.fail("link did not come up");
}
