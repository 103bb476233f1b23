import assert from "node:assert/strict";
import { garpFrame, unsolicitedNa } from "../../src/net/announce_frames.ts";
import { arpRerouteSchedule, startArpReroute } from "../../src/net/garp.ts";
import { parseIp, parseMac } from "../../src/net/ip_address.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const own = parseMac("02:00:00:00:00:0a")!;
const vip = parseIp("10.99.0.50")!.bytes;

Deno.test("gratuitous ARP request: broadcast, sender = target = VIP, target MAC zero", () => {
  assert.equal(
    hex(garpFrame(own, vip, "request")),
    "ffffffffffff" + "02000000000a" + "0806" + "0001" + "0800" + "06" + "04" + "0001" +
      "02000000000a" + "0a630032" + "000000000000" + "0a630032",
  );
});

Deno.test("gratuitous ARP reply: target MAC equals sender MAC (what Linux arp_is_garp requires)", () => {
  const f = garpFrame(own, vip, "reply");
  assert.equal(hex(f.subarray(20, 22)), "0002");
  assert.equal(hex(f.subarray(22, 28)), hex(f.subarray(32, 38)));
});

Deno.test("gratuitous ARP for a virtual MAC: advertised in the ARP body, Ethernet source stays the real MAC", () => {
  const vmac = parseMac("5a:fe:0a:63:00:32")!;
  const f = garpFrame(own, vip, "request", vmac);
  assert.equal(hex(f.subarray(6, 12)), "02000000000a");
  assert.equal(hex(f.subarray(22, 28)), "5afe0a630032");
});

Deno.test("unsolicited neighbour advertisement: type 136, Override only, target and its link-layer option", () => {
  const na = unsolicitedNa(parseIp("fd00::50")!.bytes, own);
  assert.equal(
    hex(na),
    "88" + "00" + "0000" + "20000000" + "fd000000000000000000000000000050" + "0201" + "02000000000a",
  );
});

Deno.test("arpreroute schedule: every arpinterval until arpelapse (defaults 60 s / 1200 s give 20)", () => {
  assert.equal(arpRerouteSchedule(60_000, 1_200_000).length, 20);
  assert.deepEqual(arpRerouteSchedule(60_000, 150_000), [60_000, 120_000]);
  assert.deepEqual(arpRerouteSchedule(0, 1000), []);
});

Deno.test("arpreroute re-announces on schedule, survives a failing announce, and stops on demand", async () => {
  const calls: number[] = [];
  const errors: string[] = [];
  const t0 = Date.now();
  const r = startArpReroute(
    { ifname: "eth0", addr: "10.99.0.50", intervalMs: 20, elapseMs: 60 },
    (e) => errors.push(e.message),
    () => {
      calls.push(Date.now() - t0);
      return calls.length === 2 ? Promise.reject(new Error("interface down")) : Promise.resolve();
    },
  );
  await r.done;
  assert.equal(calls.length, 3);
  assert.deepEqual(errors, ["interface down"]);
  assert.ok(calls[2] >= 60 - 5, `last announce at ${calls[2]} ms`);

  let n = 0;
  const s = startArpReroute(
    { ifname: "eth0", addr: "10.99.0.50", intervalMs: 20, elapseMs: 10_000 },
    undefined,
    () => {
      n++;
      return Promise.resolve();
    },
  );
  await new Promise((res) => setTimeout(res, 70));
  s.stop();
  await s.done;
  const stoppedAt = n;
  await new Promise((res) => setTimeout(res, 60));
  assert.ok(stoppedAt >= 1 && n === stoppedAt, `announces: ${stoppedAt} then ${n}`);
});
