// Test fixture: serves a directory in place through the FUSE passthrough until SIGTERM (clean unmount) or
// SIGKILL (the crash the recovery test needs). Prints "ready" once the mount answers.
// Usage: deno run -A serve_dir_fixture.ts DIR
import { mountReplicatedDir } from "../../../src/rfs/fuse/mod.ts";

const dir = Deno.args[0];
if (!dir) throw new Error("usage: serve_dir_fixture.ts DIR");
const mount = await mountReplicatedDir(dir);
Deno.addSignalListener("SIGTERM", () => void mount.unmount());
console.log("ready");
await mount.session.closed;
Deno.exit(0);
