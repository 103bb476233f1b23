import assert from "node:assert/strict";
import { launcherPayload, renderLauncherHeader } from "../../scripts/build/launcher.ts";
import template from "../../scripts/build/launcher_header.sh" with { type: "text" };

const facts = { hash: "0123456789abcdef", denoSize: 1234, bundleSize: 56 };

Deno.test("launcher header: the payload line is the line right after the rendered header", () => {
  const header = renderLauncherHeader(template, facts);
  const lines = header.split("\n").length - 1;
  assert.match(header, new RegExp(`^PAYLOAD_LINE=${lines + 1}$`, "m"));
  assert.match(header, /^PAYLOAD_HASH=0123456789abcdef$/m);
  assert.match(header, /^DENO_SIZE=1234$/m);
  assert.match(header, /^BUNDLE_SIZE=56$/m);
  assert.doesNotMatch(header, /@[A-Z_]+@/);
});

Deno.test("launcher header: a template with an unknown placeholder or no final newline is refused", () => {
  assert.throws(() => renderLauncherHeader("#!/bin/sh\necho @NOPE@\n", facts), /unknown placeholder @NOPE@/);
  assert.throws(() => renderLauncherHeader("#!/bin/sh\nexit 0", facts), /must end with a newline/);
  assert.throws(() => renderLauncherHeader(template, { ...facts, hash: "../x" }), /not lowercase hex/);
});

Deno.test("launcher header: deno runs with the four risky variables removed", () => {
  const header = renderLauncherHeader(template, facts);
  const exec = header.slice(header.indexOf("exec env"));
  for (const name of ["NODE_OPTIONS", "DENO_V8_FLAGS", "DENO_SERVE_ADDRESS", "SSLKEYLOGFILE"]) {
    assert.ok(exec.includes(`-u ${name} `), `${name} is not unset`);
  }
  assert.match(exec, /run -A --no-config --no-lock --cached-only "\$RT\/safekit\.bundle\.js" "\$@"/);
});

Deno.test("launcher header: the rendered header is valid POSIX sh", async () => {
  const file = await Deno.makeTempFile({ suffix: ".sh" });
  try {
    await Deno.writeTextFile(file, renderLauncherHeader(template, facts));
    for (const shell of ["sh", "dash"]) {
      const out = await new Deno.Command(shell, { args: ["-n", file], stderr: "piped" }).output().catch(() =>
        null
      );
      if (out === null) continue; // that shell is not installed
      assert.equal(out.code, 0, `${shell} -n: ${new TextDecoder().decode(out.stderr)}`);
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("launcher payload: same inputs give the same bytes and hash; other inputs another hash", async () => {
  const runtime = new TextEncoder().encode("#!/bin/sh\necho runtime\n");
  const bundle = new TextEncoder().encode("console.log(1)\n");
  const a = await launcherPayload(runtime, bundle);
  const b = await launcherPayload(runtime, bundle);
  const c = await launcherPayload(runtime, new TextEncoder().encode("console.log(2)\n"));
  assert.deepEqual(a.payload, b.payload);
  assert.equal(a.facts.hash, b.facts.hash);
  assert.notEqual(a.facts.hash, c.facts.hash);
  assert.deepEqual({ denoSize: a.facts.denoSize, bundleSize: a.facts.bundleSize }, {
    denoSize: runtime.length,
    bundleSize: bundle.length,
  });
});
