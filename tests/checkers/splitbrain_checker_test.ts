import assert from "node:assert/strict";
import {
  anyWitnessAnswers,
  splitbrainChecker,
  witnesses,
  witnessProbe,
} from "../../src/checkers/splitbrain_checker.ts";

Deno.test("witness list accepts spaces and commas", () => {
  assert.deepEqual(witnesses(" w1 w2,w3 "), ["w1", "w2", "w3"]);
});

Deno.test("one answering witness is enough, without waiting for a silent one", async () => {
  const t0 = Date.now();
  const r = await anyWitnessAnswers(
    ["silent", "alive"],
    (w) => w === "alive" ? Promise.resolve({ up: true }) : new Promise(() => {}),
  );
  assert.deepEqual(r, { up: true, detail: "witness alive answered" });
  assert.ok(Date.now() - t0 < 100);
  assert.deepEqual(await anyWitnessAnswers(["a", "b"], () => Promise.resolve({ up: false })), {
    up: false,
    detail: "no witness answered (a, b)",
  });
  assert.equal((await anyWitnessAnswers([], () => Promise.resolve({ up: true }))).up, false);
});

async function first(c: ReturnType<typeof splitbrainChecker>): Promise<string> {
  const seen: string[] = [];
  c.start((r, v) => seen.push(`${r}=${v}`));
  while (seen.length < 1) await new Promise((r) => setTimeout(r, 10));
  await c.stop();
  return seen[0];
}

Deno.test("splitbrain checker pings its witnesses: 127.0.0.1 answers", async () => {
  assert.equal(
    await first(splitbrainChecker("splitbrain.witness", "ping", "127.0.0.1")),
    "splitbrain.witness=up",
  );
});

Deno.test("splitbrain checker with another exec: exit code 0 is an answer", async () => {
  assert.equal(await first(splitbrainChecker("splitbrain.w", "/bin/false", "a b")), "splitbrain.w=down");
  assert.equal(await first(splitbrainChecker("splitbrain.w", "/bin/true", "a")), "splitbrain.w=up");
});

Deno.test("splitbrain checker with another exec: it runs with the module's environment only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const exe = `${dir}/witness`;
    // Answers only when it sees the module's variable and none of the node service's own.
    await Deno.writeTextFile(
      exe,
      `#!/bin/sh\n[ "$SAFEMODULE" = mirror ] && [ -z "$HOME_OF_THE_NODE_SERVICE" ] && [ "$1" = w1 ]\n`,
      { mode: 0o755 },
    );
    await Deno.chmod(exe, 0o755);
    Deno.env.set("HOME_OF_THE_NODE_SERVICE", "leaked");
    const probe = witnessProbe("witness", "w1", {
      userBin: dir,
      environment: () => ({ PATH: "/usr/bin:/bin", SAFEMODULE: "mirror" }),
    });
    assert.equal((await probe(AbortSignal.timeout(5000))).up, true);
  } finally {
    Deno.env.delete("HOME_OF_THE_NODE_SERVICE");
    await Deno.remove(dir, { recursive: true });
  }
});
