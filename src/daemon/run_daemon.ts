// `safekit daemon`: runs the node service in the foreground until SIGTERM or SIGINT.
import { scrubOwnEnv } from "../platform/child_env.ts";
import type { NodePaths } from "../platform/node_paths.ts";
import { guardSigusr1 } from "../platform/sigusr1_guard.ts";
import { CliError } from "../cli/cli_error.ts";
import { NodeService } from "./node_service.ts";

export async function runDaemon(paths: NodePaths, args: readonly string[]): Promise<number> {
  if (args.length) throw new CliError(`'daemon' takes no argument (set SAFE, SAFEVAR and SAFENODE instead)`);
  // Before anything else: no debugger door, and no inherited variable that would open one in a child.
  const guard = guardSigusr1();
  scrubOwnEnv();
  const service = new NodeService({ paths, safenode: Deno.env.get("SAFENODE") || undefined });
  try {
    await service.start();
  } catch (e) {
    guard.close();
    throw new CliError(`node service did not start: ${(e as Error).message}`);
  }
  console.error(
    `safeadmin: node service running (SAFE=${paths.safe}, SAFEVAR=${paths.safevar}, pid ${Deno.pid})`,
  );
  const stopped = Promise.withResolvers<void>();
  const onSignal = () => stopped.resolve();
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  await stopped.promise;
  Deno.removeSignalListener("SIGTERM", onSignal);
  Deno.removeSignalListener("SIGINT", onSignal);
  await service.shutdownModules();
  await service.stop();
  guard.close();
  return 0;
}
