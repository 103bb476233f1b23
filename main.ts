// Entry point of the `safekit` executable: hands argv to the command line.
import { runCli } from "./src/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
