import assert from "node:assert/strict";
import type { CommandResult, HostCommands } from "../../src/net/host_commands.ts";
import {
  acceptVirtualMac,
  MacAcceptanceError,
  promiscuousFromIpLinkJson,
  releaseVirtualMac,
  unicastFilterArgs,
} from "../../src/net/virtual_mac_acceptance.ts";

/** Records commands; answers from a table of "cmd arg0 arg1" prefixes. */
function recordingHost(answers: Record<string, Partial<CommandResult>>) {
  const calls: string[] = [];
  const host: HostCommands = {
    run(cmd, args) {
      const line = [cmd, ...args].join(" ");
      calls.push(line);
      const key = Object.keys(answers).find((k) => line.startsWith(k));
      return Promise.resolve({ code: 0, stdout: "", stderr: "", ...(key ? answers[key] : {}) });
    },
  };
  return { host, calls };
}

Deno.test("virtual MAC: added to the device's unicast list when the device takes it, removed on release", async () => {
  const { host, calls } = recordingHost({});
  const a = await acceptVirtualMac(host, "eth0", "5A:FE:0A:63:00:32");
  assert.deepEqual(a, { device: "eth0", mac: "5a:fe:0a:63:00:32", how: "unicast-filter" });
  await releaseVirtualMac(host, a);
  assert.deepEqual(calls, [
    "bridge fdb replace 5a:fe:0a:63:00:32 dev eth0 self permanent",
    "bridge fdb del 5a:fe:0a:63:00:32 dev eth0 self",
  ]);
});

Deno.test("virtual MAC: falls back to promiscuous mode, and switches it off only if it switched it on", async () => {
  const refused = {
    "bridge fdb replace": { code: 255, stderr: "RTNETLINK answers: Operation not supported" },
  };
  const off = recordingHost({ ...refused, "ip -j link": { stdout: '[{"flags":["BROADCAST","UP"]}]' } });
  const a = await acceptVirtualMac(off.host, "eth0", "5a:fe:00:00:00:01");
  assert.equal(a.how, "promiscuous");
  await releaseVirtualMac(off.host, a);
  assert.deepEqual(off.calls.slice(1), [
    "ip -j link show dev eth0",
    "ip link set dev eth0 promisc on",
    "ip link set dev eth0 promisc off",
  ]);
  const on = recordingHost({ ...refused, "ip -j link": { stdout: '[{"flags":["PROMISC","UP"]}]' } });
  const b = await acceptVirtualMac(on.host, "eth0", "5a:fe:00:00:00:01");
  assert.equal(b.how, "already-promiscuous");
  await releaseVirtualMac(on.host, b);
  assert.deepEqual(on.calls.slice(1), ["ip -j link show dev eth0"]);
});

Deno.test("virtual MAC: a vanished entry is not an error on release, another failure is", async () => {
  const gone = recordingHost({
    "bridge fdb del": { code: 2, stderr: "RTNETLINK answers: No such file or directory" },
  });
  await releaseVirtualMac(gone.host, { device: "eth0", mac: "5a:fe:00:00:00:01", how: "unicast-filter" });
  const bad = recordingHost({
    "bridge fdb del": { code: 2, stderr: "RTNETLINK answers: Permission denied" },
  });
  await assert.rejects(
    releaseVirtualMac(bad.host, { device: "eth0", mac: "5a:fe:00:00:00:01", how: "unicast-filter" }),
    /Permission denied/,
  );
});

Deno.test("virtual MAC: names and MACs are checked before any command", () => {
  assert.throws(() => unicastFilterArgs("replace", "eth0; rm", "5a:fe:00:00:00:01"), MacAcceptanceError);
  assert.throws(() => unicastFilterArgs("replace", "eth0", "not-a-mac"), MacAcceptanceError);
  assert.equal(promiscuousFromIpLinkJson('[{"flags":["PROMISC"]}]'), true);
  assert.equal(promiscuousFromIpLinkJson("[]"), false);
});
