// Runs the whole test suite and ends with the one line CI reads: `N passed, N failed, N skipped`.
// Extra arguments are passed to `deno test` (e.g. a folder: `deno task test tests/config`).
const args = Deno.args.length > 0 ? Deno.args : ["tests/"];
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "--no-prompt", ...args],
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1" },
}).spawn();

let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const status = await child.status;

// deno test's own summary: "ok | 12 passed (3 steps) | 0 failed | 1 ignored (2s)".
const summary =
  /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/
    // deno-lint-ignore no-control-regex -- ANSI colour codes are what we strip
    .exec(tail.replace(/\x1b\[[0-9;]*m/g, ""));
if (summary) {
  console.log(`\n${summary[1]} passed, ${summary[2]} failed, ${summary[3] ?? 0} skipped`);
} else {
  // The runner died before its summary (a crash or a load error): count it as one failure.
  console.log(`\n0 passed, 1 failed`);
}
Deno.exit(status.success && summary ? 0 : 1);
