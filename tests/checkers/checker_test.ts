import assert from "node:assert/strict";
import { PeriodicChecker, type Probe, probeWithin, resourceMessage } from "../../src/checkers/checker.ts";

function collect() {
  const seen: string[] = [];
  return { seen, report: (r: string, v: string) => seen.push(`${r}=${v}`) };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a checker reports its first result, then only changes", async () => {
  const answers = [true, true, false, false, true, true];
  let i = 0;
  const probe: Probe = () => Promise.resolve({ up: answers[Math.min(i++, answers.length - 1)] });
  const c = new PeriodicChecker("tcp.web", probe, 5, 1000);
  const { seen, report } = collect();
  c.start(report);
  while (i < answers.length + 2) await wait(5);
  await c.stop();
  assert.deepEqual(seen, ["tcp.web=up", "tcp.web=down", "tcp.web=up"]);
});

Deno.test("a hung probe costs its own timeout and does not delay another checker", async () => {
  const hung = new PeriodicChecker("tcp.hung", () => new Promise(() => {}), 10, 300);
  let fastProbes = 0;
  const fast = new PeriodicChecker(
    "tcp.fast",
    () => {
      fastProbes++;
      return Promise.resolve({ up: true });
    },
    10,
    300,
  );
  const { seen, report } = collect();
  const t0 = Date.now();
  hung.start(report);
  fast.start(report);
  await wait(150);
  assert.deepEqual(seen, ["tcp.fast=up"], "the fast checker answered while the other hung");
  assert.ok(fastProbes >= 3, `fast checker kept polling (${fastProbes} probes)`);
  while (seen.length < 2) await wait(10);
  assert.deepEqual(seen, ["tcp.fast=up", "tcp.hung=down"]);
  assert.ok(Date.now() - t0 >= 290, "down only after its timeout");
  await Promise.all([hung.stop(), fast.stop()]);
});

Deno.test("stop() ends a checker at once, even during a long probe and a long interval", async () => {
  const c = new PeriodicChecker(
    "ping.x",
    (signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ up: false }))),
    60_000,
    60_000,
  );
  const { seen, report } = collect();
  c.start(report);
  await wait(20);
  const t0 = Date.now();
  await c.stop();
  assert.ok(Date.now() - t0 < 200);
  assert.deepEqual(seen, [], "a probe cut by stop() is not reported");
});

Deno.test("a probe that throws is a down result with its reason", async () => {
  const r = await probeWithin(() => Promise.reject(new Error("boom")), 1000);
  assert.deepEqual(r, { up: false, detail: "boom" });
});

Deno.test("the resource log line is the SafeKit one", () => {
  assert.equal(resourceMessage("tcp.id", "down", "tcpcheck"), "Resource tcp.id set to down by tcpcheck");
});
