import assert from "node:assert/strict";
import {
  echoRequest,
  icmpChecksum,
  icmpSocketKind,
  isEchoReply,
  parseIpv4,
  ping,
  pingChecker,
} from "../../src/checkers/ping_checker.ts";
import { skipUnless } from "../support/privileges.ts";
import { probeInNetns, sh, withNetns } from "./support/netns.ts";

Deno.test("an echo request carries type 8, id, seq and a checksum that verifies to zero", () => {
  const req = echoRequest(0x1234, 7);
  assert.equal(req[0], 8);
  assert.deepEqual([...req.subarray(4, 8)], [0x12, 0x34, 0, 7]);
  assert.equal(icmpChecksum(req), 0);
});

Deno.test("a reply is recognised by type, sequence and (raw) identifier; requests are not replies", () => {
  const reply = echoRequest(0x1234, 7);
  reply[0] = 0;
  const ipHeader = new Uint8Array(20);
  ipHeader[0] = 0x45;
  const raw = new Uint8Array([...ipHeader, ...reply]);
  assert.ok(isEchoReply(raw, true, 0x1234, 7));
  assert.ok(!isEchoReply(raw, true, 0x9999, 7), "another process's reply on the raw socket");
  assert.ok(isEchoReply(reply, false, 0x9999, 7), "datagram sockets: the kernel owns the identifier");
  assert.ok(!isEchoReply(reply, false, 0x1234, 8));
  assert.ok(!isEchoReply(new Uint8Array([...ipHeader, ...echoRequest(0x1234, 7)]), true, 0x1234, 7));
});

Deno.test("parseIpv4 accepts dotted quads only", () => {
  assert.deepEqual([...parseIpv4("127.0.0.1")!], [127, 0, 0, 1]);
  assert.equal(parseIpv4("256.0.0.1"), null);
  assert.equal(parseIpv4("localhost"), null);
});

Deno.test("ping of 127.0.0.1 answers, through the ICMP socket and through the ping command", async (t) => {
  const kind = icmpSocketKind();
  await t.step(`ICMP socket (${kind ?? "none available"})`, async () => {
    if (kind === null) {
      if (skipUnless({ root: true }) !== null) return;
      assert.fail("root but no ICMP socket could be opened");
    }
    assert.deepEqual(await ping("127.0.0.1", AbortSignal.timeout(2000), "socket"), { up: true });
  });
  await t.step("ping command", async () => {
    if (skipUnless({ commands: ["ping"] }) !== null) return;
    assert.deepEqual(await ping("127.0.0.1", AbortSignal.timeout(2000), "command"), { up: true });
  });
});

Deno.test("ping checker reports up for 127.0.0.1", async () => {
  const seen: string[] = [];
  const c = pingChecker("ping.local", { addr: "127.0.0.1", intervalMs: 50, timeoutMs: 2000 });
  c.start((r, v) => seen.push(`${r}=${v}`));
  while (seen.length < 1) await new Promise((r) => setTimeout(r, 10));
  await c.stop();
  assert.deepEqual(seen, ["ping.local=up"]);
});

Deno.test("ping inside a test namespace: down when nothing answers, after the timeout; up when it answers", async () => {
  if (skipUnless({ root: true, commands: ["ip", "ping"] }) !== null) return;
  await withNetns(async (ns) => {
    const probe = (method: string, timeoutMs = 600) =>
      probeInNetns(ns, { kind: "ping", addr: "127.0.0.1", method, timeoutMs });
    // A new namespace's loopback is down: there is no route to 127.0.0.1 at all.
    assert.equal((await probe("socket")).up, false);
    await sh(`ip -n ${ns} link set lo up`);
    assert.deepEqual(await probe("socket"), { up: true });
    assert.deepEqual(await probe("command"), { up: true });
    // The namespace's own stack stops answering echo requests: the probe waits its timeout, then down.
    await sh(`ip netns exec ${ns} sysctl -qw net.ipv4.icmp_echo_ignore_all=1`);
    for (const method of ["socket", "command"]) {
      const t0 = Date.now();
      assert.deepEqual(await probe(method), { up: false, detail: "no answer within 600 ms" }, method);
      assert.ok(Date.now() - t0 >= 600, `${method}: waited the timeout`);
    }
  });
});
