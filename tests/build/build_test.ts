// End to end: scripts/build.ts --only-fallback produces dist/safekit, and that one file runs the app from an
// empty directory, unpacking its runtime once into the cache dir and again only when the cache is damaged.
import assert from "node:assert/strict";
import { join } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };

const repoRoot = new URL("../..", import.meta.url).pathname;

function bundleAvailable(): boolean {
  const out = new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--help"],
    stdout: "null",
    stderr: "null",
  })
    .outputSync();
  return out.success;
}

type Run = { code: number; stdout: string; stderr: string; ms: number };

async function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<Run> {
  const started = performance.now();
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
    ms: performance.now() - started,
  };
}

function onlyEntry(dir: string): string {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => !n.startsWith("."));
  assert.equal(names.length, 1, `expected one runtime dir in ${dir}, found ${JSON.stringify(names)}`);
  return join(dir, names[0]);
}

const canBundle = bundleAvailable();
if (!canBundle) {
  console.log("tests/build/build_test.ts: skipped, `deno bundle` is not available in this deno");
}

Deno.test({
  name:
    "build: the single-file fallback runs the app from an empty directory and keeps its runtime cache sound",
  ignore: !canBundle,
  async fn(t) {
    const tmp = await Deno.makeTempDir({ prefix: "safekit-build-test-" });
    const dist = join(tmp, "dist");
    const empty = join(tmp, "empty");
    const home = join(tmp, "home");
    const cache = join(tmp, "runtime");
    await Deno.mkdir(empty);
    await Deno.mkdir(home);
    const single = join(dist, "safekit");
    const baseEnv = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: home };
    const env = { ...baseEnv, SAFEKIT_RUNTIME_DIR: cache };
    const expected = `safekit ${denoJson.version}\n`;
    try {
      const built = await t.step(
        "build.ts --only-fallback writes dist/safekit and reports it in the summary",
        async () => {
          const args = ["run", "-A", "scripts/build.ts", "--only-fallback", "--out", dist];
          const out = await run(Deno.execPath(), args, {
            cwd: repoRoot,
            env: { ...Deno.env.toObject(), NO_COLOR: "1" },
          });
          assert.equal(out.code, 0, `build failed:\n${out.stdout}\n${out.stderr}`);
          const hostRow = out.stdout.split("\n").find((l) => l.startsWith(Deno.build.target));
          assert.match(hostRow ?? "", /\bfallback\b/, out.stdout);
          const head = new TextDecoder().decode((await Deno.readFile(single)).subarray(0, 10));
          assert.equal(head, "#!/bin/sh\n");
          assert.ok(((await Deno.stat(single)).mode ?? 0) & 0o100, "dist/safekit is not executable");
        },
      );

      if (!built) return; // every later step needs the built file; its failure is already reported
      let runtimeDir = "";
      await t.step("first run unpacks into SAFEKIT_RUNTIME_DIR/<hash> and prints the version", async () => {
        const out = await run(single, ["--version"], { cwd: empty, env });
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, expected);
        runtimeDir = onlyEntry(cache);
        assert.ok((await Deno.stat(join(runtimeDir, "deno"))).isFile);
        assert.ok((await Deno.stat(join(runtimeDir, "safekit.bundle.js"))).isFile);
        assert.deepEqual([...Deno.readDirSync(empty)], [], "the launcher wrote into the working directory");
        console.log(`  first run ${out.ms.toFixed(0)} ms`);
      });

      await t.step("second run reuses the unpacked runtime without unpacking again", async () => {
        const before = await Deno.stat(join(runtimeDir, "deno"));
        const out = await run(single, ["--version"], { cwd: empty, env });
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, expected);
        const after = await Deno.stat(join(runtimeDir, "deno"));
        assert.equal(after.ino, before.ino, "the runtime was unpacked again");
        console.log(`  cached run ${out.ms.toFixed(0)} ms`);
      });

      await t.step("a cache dir that lost its deno is unpacked again", async () => {
        await Deno.remove(join(runtimeDir, "deno"));
        const out = await run(single, ["--version"], { cwd: empty, env });
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, expected);
        assert.ok((await Deno.stat(join(runtimeDir, "deno"))).isFile);
        assert.equal(onlyEntry(cache), runtimeDir, "leftover temporary dirs in the cache");
      });

      await t.step("a truncated bundle in the cache is detected and replaced", async () => {
        const bundle = join(runtimeDir, "safekit.bundle.js");
        const size = (await Deno.stat(bundle)).size;
        await Deno.truncate(bundle, 100);
        const out = await run(single, ["--version"], { cwd: empty, env });
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, expected);
        assert.equal((await Deno.stat(bundle)).size, size);
      });

      await t.step("NODE_OPTIONS and DENO_V8_FLAGS from the caller do not reach deno", async () => {
        // Unscrubbed, NODE_OPTIONS opens an inspector and an unknown V8 flag makes deno refuse to start.
        const out = await run(single, ["--version"], {
          cwd: empty,
          env: { ...env, NODE_OPTIONS: "--inspect=127.0.0.1:9339", DENO_V8_FLAGS: "--no-such-v8-flag" },
        });
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, expected);
        assert.doesNotMatch(out.stderr, /Debugger listening/);
      });

      await t.step(
        "install.sh installs the file as SAFE/safekit, creates SAFEVAR and writes the unit",
        async () => {
          const safe = join(tmp, "opt-safekit");
          const safevar = join(tmp, "var-safekit");
          const units = join(tmp, "units");
          const out = await run(
            "sh",
            [
              join(repoRoot, "installer/install.sh"),
              single,
              "--prefix",
              safe,
              "--safevar",
              safevar,
              "--unit-dir",
              units,
            ],
            { cwd: empty, env: baseEnv },
          );
          assert.equal(out.code, 0, out.stderr);
          assert.match(
            out.stdout,
            new RegExp(`installed safekit ${denoJson.version.replaceAll(".", "\\.")} as `),
          );
          assert.deepEqual(await Deno.readFile(join(safe, "safekit")), await Deno.readFile(single));
          assert.ok((await Deno.stat(safevar)).isDirectory);
          // The installer's first run unpacked the runtime where the service will look for it.
          assert.ok((await Deno.stat(join(onlyEntry(join(safe, "private", "runtime")), "deno"))).isFile);
          const unit = await Deno.readTextFile(join(units, "safeadmin.service"));
          assert.match(unit, new RegExp(`^ExecStart=${safe}/safekit daemon$`, "m"));
          assert.match(
            unit,
            /^UnsetEnvironment=NODE_OPTIONS DENO_V8_FLAGS DENO_SERVE_ADDRESS SSLKEYLOGFILE$/m,
          );
          assert.match(unit, new RegExp(`^Environment=SAFE=${safe} SAFEVAR=${safevar} `, "m"));
        },
      );

      await t.step("install.sh refuses a missing file with a hint", async () => {
        const out = await run("sh", [join(repoRoot, "installer/install.sh"), join(tmp, "nope")], {
          cwd: empty,
          env: baseEnv,
        });
        assert.equal(out.code, 1);
        assert.match(out.stderr, /is not a file \(build it with: deno task build/);
      });

      const isRoot = Deno.uid() === 0;
      await t.step(
        `without SAFEKIT_RUNTIME_DIR the cache is ${
          isRoot ? "SAFE/private/runtime for root" : "under HOME/.cache"
        }`,
        async () => {
          const safe = join(tmp, "safe");
          const out = await run(single, ["--version"], { cwd: empty, env: { ...baseEnv, SAFE: safe } });
          assert.equal(out.code, 0, out.stderr);
          assert.equal(out.stdout, expected);
          const base = isRoot ? join(safe, "private", "runtime") : join(home, ".cache", "safekit-runtime");
          assert.ok((await Deno.stat(join(onlyEntry(base), "deno"))).isFile);
        },
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
