import assert from "node:assert/strict";
import { classifyCompileFailure, outputName } from "../../scripts/build/compile_target.ts";
import { formatSummary } from "../../scripts/build/summary_table.ts";

// What deno 2.9.6 printed on this machine, offline (host name shortened).
const offlineStderr = `Compile hello.ts to hello
Download https://release-server/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file '/tmp/bt/hello.tmp-c38ced0fd9b5c502'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://release-server/...zip): client error (Connect): dns error
    2: client error (Connect)
`;

const facts = { timedOut: false, timeoutSeconds: 60, target: "aarch64-apple-darwin", denoVersion: "2.9.6" };

Deno.test("compile failure: an unreachable runtime download names the cache path to fill", () => {
  const reason = classifyCompileFailure(offlineStderr, { ...facts, isHost: false });
  assert.equal(
    reason,
    "denort runtime unreachable (download failed); provide $DENO_DIR/dl/release/v2.9.6/denort-aarch64-apple-darwin.zip",
  );
  assert.match(classifyCompileFailure(offlineStderr, { ...facts, isHost: true }), /or DENORT_BIN$/);
});

Deno.test("compile failure: a timeout says so", () => {
  assert.match(
    classifyCompileFailure("", { ...facts, isHost: false, timedOut: true }),
    /^timed out after 60s/,
  );
});

Deno.test("compile failure: any other error keeps deno's first error line", () => {
  const stderr =
    "Check main.ts\nerror: TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.\n  at x\n";
  assert.equal(
    classifyCompileFailure(stderr, { ...facts, isHost: true }),
    "error: TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.",
  );
});

Deno.test("compile output: Windows gets .exe, the others no extension", () => {
  assert.equal(outputName("x86_64-pc-windows-msvc"), "safekit-x86_64-pc-windows-msvc.exe");
  assert.equal(outputName("aarch64-unknown-linux-gnu"), "safekit-aarch64-unknown-linux-gnu");
});

Deno.test("summary table: columns are aligned and every target has its row", () => {
  const text = formatSummary([
    { target: "x86_64-unknown-linux-gnu", result: "fallback", detail: "dist/safekit 42.6 MB" },
    { target: "x86_64-apple-darwin", result: "failed", detail: "timed out" },
  ]);
  assert.equal(
    text,
    [
      "target                    result    detail",
      "x86_64-unknown-linux-gnu  fallback  dist/safekit 42.6 MB",
      "x86_64-apple-darwin       failed    timed out",
    ].join("\n"),
  );
});
