import assert from "node:assert/strict";
import { join } from "node:path";
import { tarArchive } from "../../scripts/build/tar_writer.ts";

Deno.test("tar writer: system tar extracts the files with their bytes and modes", async () => {
  const exe = new Uint8Array(1000).map((_, i) => i % 251);
  const text = new TextEncoder().encode("hello\n");
  const archive = tarArchive([
    { name: "deno", mode: 0o755, data: exe },
    { name: "safekit.bundle.js", mode: 0o644, data: text },
    { name: "empty", mode: 0o600, data: new Uint8Array() },
  ]);
  assert.equal(archive.length % 512, 0);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(join(dir, "a.tar"), archive);
    await Deno.mkdir(join(dir, "x"));
    const out = await new Deno.Command("tar", {
      args: ["-xf", "a.tar", "-C", "x"],
      cwd: dir,
      stderr: "piped",
    })
      .output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(await Deno.readFile(join(dir, "x", "deno")), exe);
    assert.deepEqual(await Deno.readFile(join(dir, "x", "safekit.bundle.js")), text);
    assert.equal((await Deno.readFile(join(dir, "x", "empty"))).length, 0);
    assert.equal((await Deno.stat(join(dir, "x", "deno"))).mode! & 0o777, 0o755);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tar writer: names longer than the ustar field are refused", () => {
  assert.throws(
    () => tarArchive([{ name: "n".repeat(101), mode: 0o644, data: new Uint8Array() }]),
    /1\.\.100 bytes/,
  );
});
