// <rfs> (mirror only, spec §4.7 and §7).

import { parseCron } from "../core/cron_schedule.ts";
import type { ElementReader } from "./element_reader.ts";
import type { ReplicatedDir, RfsConfig } from "./module_types.ts";

const RFS_ATTRIBUTES = [
  "acl",
  "async",
  "iotimeout",
  "roflags",
  "locktimeout",
  "sendtimeout",
  "nbrei",
  "reipacketsize",
  "ruzone_blocksize",
  "packetsize",
  "namespacepolicy",
  "reitimeout",
  "reicommit",
  "reidetail",
  "allocthreshold",
  "nbremconn",
  "checktime",
  "checkintv",
  "nfsbox_options",
  "scripts",
  "reiallowedbw",
  "syncdelta",
  "syncat",
  "mountoversuffix",
  "mountover",
  // ours (docs/replication-fuse.md): FUSE read passthrough (default on) and the kernel's writeback cache
  // (default off: fsync/close become the replication boundary)
  "readpassthrough",
  "writebackcache",
]; // deno-fmt-ignore

const ABSOLUTE = /^(\/|[A-Za-z]:[\\/]|\\\\)/;
const UNRESOLVED_REFERENCE = /^%[A-Za-z_][A-Za-z0-9_]*%/;

export function readRfs(rfs: ElementReader): RfsConfig {
  rfs.expectShape({ attributes: RFS_ATTRIBUTES, children: ["replicated", "flow"] });
  const replicatedEls = rfs.atLeastOne("replicated");
  const replicated = replicatedEls.map((el) => readReplicated(rfs.reader(el)));
  replicated.forEach((r, i) => {
    const other = replicated.slice(0, i).find((o) => nested(o.dir, r.dir));
    if (other !== undefined) {
      throw rfs.elementError(
        replicatedEls[i],
        `replicated directory '${r.dir}' overlaps '${other.dir}' (each directory may be replicated once)`,
      );
    }
  });
  const flowEl = rfs.atMostOne("flow");
  const flow = flowEl === undefined ? undefined : {
    name: rfs.reader(flowEl).expectShape({ attributes: ["name"] }).requiredString("name"),
    at: { line: flowEl.line, column: flowEl.column },
  };
  const roflags = rfs.optionalString("roflags");
  if (roflags !== undefined && roflags !== "0x10" && roflags !== "0x10000") {
    throw rfs.invalidAttribute("roflags", "0x10 or 0x10000");
  }
  return {
    acl: rfs.onOff("acl", false),
    async: rfs.oneOf("async", ["second", "none"], "second"),
    ioTimeoutMs: rfs.timeMs("iotimeout", "s", 300_000),
    roFlags: roflags === "0x10000" ? 0x10000 : 0x10,
    lockTimeoutMs: rfs.timeMs("locktimeout", "s", 100_000),
    sendTimeoutMs: rfs.timeMs("sendtimeout", "s", 30_000),
    nbRei: rfs.integer("nbrei", 6, 1),
    reiPacketSize: rfs.integer("reipacketsize", 8388608, 4096),
    ruZoneBlockSize: rfs.integer("ruzone_blocksize", 8388608, 4096),
    packetSize: rfs.optionalInteger("packetsize", 1),
    namespacePolicy: Number(rfs.oneOf("namespacepolicy", ["0", "1", "2", "3", "4"], "4")),
    reiTimeoutMs: rfs.timeMs("reitimeout", "s", 150_000),
    reiCommit: rfs.integer("reicommit", 0, 0),
    reiDetail: rfs.onOff("reidetail", false),
    allocThreshold: rfs.integer("allocthreshold", 0, 0),
    nbRemConn: rfs.integer("nbremconn", 1, 1),
    checkTimeMs: rfs.timeMs("checktime", "ms", 220_000),
    checkIntervalMs: rfs.timeMs("checkintv", "s", 120_000),
    nfsboxOptions: rfs.oneOf("nfsbox_options", ["cross", "nocross"]),
    scripts: rfs.onOff("scripts", false),
    reiAllowedBandwidth: rfs.optionalInteger("reiallowedbw", 1),
    syncDeltaMs: rfs.timeMs("syncdelta", "m", 0),
    syncAt: readSyncAt(rfs),
    mountOverSuffix: rfs.string("mountoversuffix", "_For_SafeKit_Replication"),
    mountOver: rfs.has("mountover") ? rfs.onOff("mountover", true) : undefined,
    readPassthrough: rfs.onOff("readpassthrough", true),
    writebackCache: rfs.onOff("writebackcache", false),
    replicated,
    flow,
  };
}

function readReplicated(rep: ElementReader): ReplicatedDir {
  rep.expectShape({ attributes: ["dir", "mode"], children: ["tocheck", "notreplicated"] });
  const dir = rep.requiredString("dir");
  // A leading unresolved %NAME% may be a Windows variable expanded by the node service later.
  if (!ABSOLUTE.test(dir) && !UNRESOLVED_REFERENCE.test(dir)) {
    throw rep.invalidAttribute("dir", "an absolute path like /var/replicated or e:\\repdir");
  }
  const toCheck = rep.children("tocheck").map((el) => {
    const tc = rep.reader(el).expectShape({ attributes: ["path"] });
    return relativePath(tc, "path");
  });
  const notReplicatedPaths: string[] = [];
  const notReplicatedRegexps: string[] = [];
  for (const el of rep.children("notreplicated")) {
    const nr = rep.reader(el).expectShape({ attributes: ["path", "regexpath"] });
    if (nr.has("path") === nr.has("regexpath")) {
      throw nr.error("expected exactly one of the attributes 'path' or 'regexpath'");
    }
    if (nr.has("path")) notReplicatedPaths.push(relativePath(nr, "path"));
    else notReplicatedRegexps.push(nr.requiredString("regexpath"));
  }
  return {
    dir,
    readOnly: rep.oneOf("mode", ["read_only"]) === "read_only",
    toCheck,
    notReplicatedPaths,
    notReplicatedRegexps,
  };
}

function relativePath(r: ElementReader, name: string): string {
  const path = r.requiredString(name);
  if (ABSOLUTE.test(path)) throw r.invalidAttribute(name, "a path relative to the replicated directory");
  return path;
}

function nested(a: string, b: string): boolean {
  // Windows paths are case-insensitive, Linux paths are not.
  const norm = (p: string) => {
    const slashed = p.replace(/\\/g, "/").replace(/\/+$/, "") + "/";
    return /^[A-Za-z]:/.test(p) ? slashed.toLowerCase() : slashed;
  };
  return norm(a).startsWith(norm(b)) || norm(b).startsWith(norm(a));
}

/** syncat is a crontab schedule (spec §7.2); the schtasks form of Windows is refused with what to write. */
function readSyncAt(rfs: ElementReader): string | undefined {
  const text = rfs.optionalString("syncat");
  if (text === undefined) return undefined;
  try {
    parseCron(text);
  } catch (e) {
    throw rfs.invalidAttribute("syncat", `a crontab schedule such as "01 0 * * *" (${(e as Error).message})`);
  }
  return text;
}
