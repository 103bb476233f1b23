// How to start this same program again as a child (node services of the demo, tests): under `deno run`
// the runtime plus the main module; as a compiled binary, the binary itself.
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

export function selfCommand(): string[] {
  // The single-file launcher runs the bundle under an unpacked deno and says where the launcher itself is.
  const launcher = Deno.env.get("SAFEKIT_EXE");
  if (launcher) return [launcher];
  const exe = Deno.execPath();
  if (/^deno(\.exe)?$/.test(basename(exe))) {
    const main = Deno.mainModule.startsWith("file:") ? fileURLToPath(Deno.mainModule) : Deno.mainModule;
    return [exe, "run", "-A", "--no-prompt", ...(main.endsWith(".js") ? ["--no-config"] : []), main];
  }
  return [exe];
}
