// Replication verbs (spec §3.7): `rfsverify -m AM` compares the two copies of every replicated directory by
// checksum while the module is PRIM/SECOND, without stopping the application. Exit code 0 when the copies
// are equal, 1 when a difference persisted through the re-checks (each one printed).
// `rfssync [full|default] -m AM` shows or sets this node's reintegration policy (src/daemon/rfs_sync_routes.ts).
import { describeDifference, type Difference } from "../rfs/verify/compare_digests.ts";
import { parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import { printJson, type Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";

type VerifyJson = {
  module: string;
  primary: string;
  secondary: string;
  dirs: { dir: string; entries: number; differences: Difference[]; inFlight: string[] }[];
  differences: number;
};

function moduleArg(verb: string, args: readonly string[]): string {
  const a = parseVerbArgs(verb, args, { values: ["m"] });
  const m = a.value("m");
  if (!m) throw new CliError(`'${verb}' needs -m <module>`);
  return m;
}

export const rfsverify: Verb = async (ctx, args) => {
  const m = moduleArg("rfsverify", args);
  const r = expectOk<VerifyJson>(
    await ctx.client.request("POST", `/api/v1/modules/${encodeURIComponent(m)}/rfs/verify`),
  );
  if (ctx.json) {
    printJson(ctx, r);
    return r.differences ? 1 : 0;
  }
  const lines = [`rfsverify ${r.module}: primary ${r.primary}, secondary ${r.secondary}`];
  for (const d of r.dirs) {
    lines.push(
      `  ${d.dir}: ${d.entries} entries, ${d.differences.length} difference${
        d.differences.length === 1 ? "" : "s"
      }${d.inFlight.length ? ` (${d.inFlight.length} changed during the verification and then agreed)` : ""}`,
    );
    for (const diff of d.differences) lines.push(`    ${describeDifference(diff)}`);
  }
  lines.push(
    r.differences ? `${r.differences} difference(s): the copies differ` : "the copies are identical",
  );
  ctx.io.out(lines.join("\n"));
  return r.differences ? 1 : 0;
};

export const rfssync: Verb = async (ctx, args) => {
  const a = parseVerbArgs("rfssync", args, { values: ["m", "d"], positionals: [0, 3] });
  const m = a.value("m");
  if (!m) throw new CliError("'rfssync' needs -m <module>");
  const [sub, ...rest] = a.positionals;
  if (sub === "external" || a.value("d") !== undefined) {
    throw new CliError(
      "'rfssync external' is not supported: restore the backup on the secondary, then run " +
        "'safekit secondforce -d <date of the backup> -m " + m +
        "' (copies only the files modified after that date)",
    );
  }
  const path = `/api/v1/modules/${encodeURIComponent(m)}/rfs/syncmode`;
  let r: { module: string; mode: string; since?: number };
  if (sub === undefined) r = expectOk(await ctx.client.request("GET", path));
  else if ((sub === "full" || sub === "default") && rest.length === 0) {
    r = expectOk(await ctx.client.request("POST", path, { mode: sub }));
  } else throw new CliError(`'rfssync': expected 'full', 'default' or nothing, got '${args.join(" ")}'`);
  if (ctx.json) printJson(ctx, r);
  else {
    ctx.io.out(
      r.mode === "full"
        ? `${r.module}: the next reintegration on this node is a full copy`
        : `${r.module}: default policy (modified zones of modified files, else whole modified files)`,
    );
  }
  return 0;
};

type DiffJson = {
  module: string;
  node: string;
  dirs: {
    dir: string;
    basis: "zones" | "date" | "full";
    sinceMs: number | null;
    zoneFiles: number;
    wholeEntries: number;
    wholeDirs: number;
    bytes: number;
  }[];
  bytes: number;
  files: number;
  rateBytesPerSecond: number;
  rateBasis: string;
  estimateSeconds: number;
};

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 2 : 0)} MB`;
}

/** `rfsdiff -m AM` on the primary: what the next reintegration would copy, and how long it would take. */
export const rfsdiff: Verb = async (ctx, args) => {
  const m = moduleArg("rfsdiff", args);
  const r = expectOk<DiffJson>(
    await ctx.client.request("GET", `/api/v1/modules/${encodeURIComponent(m)}/rfs/diff`),
  );
  if (ctx.json) return printJson(ctx, r), 0;
  const lines = [`rfsdiff ${r.module} on ${r.node}:`];
  for (const d of r.dirs) {
    const since = d.sinceMs === null
      ? "never in sync"
      : `since ${new Date(d.sinceMs).toLocaleString("sv-SE")}`;
    const what = d.basis === "zones"
      ? `${d.zoneFiles} file(s) by modified zones, ${d.wholeEntries} entr(y/ies) whole, ${d.wholeDirs} new director(y/ies)`
      : d.basis === "date"
      ? `${d.wholeEntries} file(s) modified since the last sync point minus 1 h (the zone record is not trusted after a crash)`
      : `${d.wholeEntries} file(s): full copy`;
    lines.push(`  ${d.dir} (${since}): ${what}; ${megabytes(d.bytes)}`);
  }
  lines.push(
    `total ${r.files} file(s), ${megabytes(r.bytes)}; estimated sync time ${r.estimateSeconds} s at ` +
      `${megabytes(r.rateBytesPerSecond)}/s (${r.rateBasis})`,
  );
  ctx.io.out(lines.join("\n"));
  return 0;
};
