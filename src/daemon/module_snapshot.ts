// A module's snapshot for support (spec §10.4, console "Debug: download snapshots"): one zip named
// snapshot_<node>_<AM>.zip holding what a support engineer asks for first. Simpler than SafeKit's (no
// three dumps, no system state, no password): the current configuration tree as a .safe, the module log
// (plain and verbose), the command log, the resources and the state, and cluster.xml.
import { TextReader, Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from "@zip.js/zip.js";
import { formatCommandLogLine, formatLogLine } from "../store/mod.ts";
import type { NodeService } from "./node_service.ts";

/** Enough history to see what led to a failure, bounded so a snapshot stays a few megabytes. */
const LOG_ROWS = 20_000;
const COMMAND_ROWS = 5_000;

export type ModuleSnapshot = { readonly filename: string; readonly bytes: Uint8Array };

export async function moduleSnapshot(
  s: NodeService,
  module: string,
  now = new Date(),
): Promise<ModuleSnapshot> {
  const rt = s.modules.get(module); // 404 for an unknown module
  const node = s.cluster.active?.localNode ?? Deno.hostname();
  const dir = `snapshot_${node}_${rt.name}`;
  const w = new ZipWriter(new Uint8ArrayWriter(), { level: 6 });
  const text = (name: string, body: string) => w.add(`${dir}/${name}`, new TextReader(body));

  await text(
    "state.json",
    JSON.stringify(
      { node, module: rt.name, id: rt.id, mode: rt.mode, state: rt.state, takenAt: now.toISOString() },
      null,
      2,
    ) + "\n",
  );
  try {
    await w.add(`${dir}/${rt.name}.safe`, new Uint8ArrayReader(await s.modules.package(rt.name)));
  } catch (e) {
    await text(
      "config-missing.txt",
      `the configuration tree could not be packaged: ${(e as Error).message}\n`,
    );
  }
  if (rt.log) {
    const plain = rt.log.query({ verbose: false, last: LOG_ROWS });
    const verbose = rt.log.query({ verbose: true, last: LOG_ROWS });
    await text("log.txt", plain.map((r) => formatLogLine(r)).join("\n") + "\n");
    await text("logverbose.txt", verbose.map((r) => formatLogLine(r)).join("\n") + "\n");
  }
  if (rt.resources) {
    const rows = rt.resources.list();
    await text("resources.txt", rows.map((r) => `${r.name}=${r.value}`).join("\n") + "\n");
  }
  const commands = s.commandLog.list({ last: COMMAND_ROWS }).reverse();
  await text("commandlog.txt", commands.map((r) => formatCommandLogLine(r)).join("\n") + "\n");
  if (s.cluster.active) await text("cluster.xml", s.cluster.active.xml);
  return { filename: `${dir}.zip`, bytes: await w.close() };
}
