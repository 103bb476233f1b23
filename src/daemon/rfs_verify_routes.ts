// Replication verification (spec §3.7 `safekit rfsverify`): each node lists its copy of a replicated
// directory with checksums (POST .../rfs/digest, also what the peer asks for), and the node asked to verify
// compares its listing with its peer's, re-checking differences so that writes in flight are not reported as
// divergence. Runs while the application writes; reads only. Admin only: checksums of every file say much
// about the data.
import { mirrorPeer, MirrorRuntime } from "./mirror_runtime.ts";
import { estimateSeconds, type ZoneSummary } from "../rfs/zones/zone_summary.ts";
import { conflict, NodeError } from "./node_error.ts";
import type { NodeService } from "./node_service.ts";
import { peerRequest } from "./peer_request.ts";
import type { Route } from "../web/route_table.ts";
import { replicationFilter } from "../rfs/replication_filter.ts";
import { type DigestEntry, digestTree } from "../rfs/verify/tree_digest.ts";
import { describeDifference, type Difference } from "../rfs/verify/compare_digests.ts";
import { type DirVerification, verifyDir } from "../rfs/verify/verify_dir.ts";

const PEER_TIMEOUT_MS = 10 * 60_000;
const MAX_PATHS = 100_000;

export type RfsVerifyResult = {
  readonly module: string;
  readonly primary: string;
  readonly secondary: string;
  readonly dirs: readonly (DirVerification & { readonly dir: string })[];
  readonly differences: number;
};

type DigestBody = { dir?: unknown; paths?: unknown };

function replicatedDirs(s: NodeService, module: string) {
  const rt = s.modules.get(module);
  if (rt.mode !== "mirror") {
    throw new NodeError(`module '${module}' is a ${rt.mode} module: nothing is replicated`);
  }
  const rfs = rt.config?.rfs;
  if (!rfs) throw conflict(`module '${module}' has no <rfs> (or is not configured): nothing is replicated`);
  return { rt, dirs: rfs.replicated };
}

async function localDigest(s: NodeService, module: string, body: DigestBody): Promise<DigestEntry[]> {
  const { dirs } = replicatedDirs(s, module);
  const i = body.dir;
  if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= dirs.length) {
    throw new NodeError(`"dir" must be the index of a <replicated> directory, 0 to ${dirs.length - 1}`, 400);
  }
  let paths: string[] | undefined;
  if (body.paths !== undefined) {
    if (!Array.isArray(body.paths) || body.paths.some((p) => typeof p !== "string")) {
      throw new NodeError(`"paths" must be an array of relative paths`, 400);
    }
    if (body.paths.length > MAX_PATHS) {
      throw new NodeError(`"paths": at most ${MAX_PATHS} paths at once`, 400);
    }
    paths = body.paths as string[];
  }
  try {
    return await digestTree(dirs[i].dir, { filter: replicationFilter(dirs[i]), only: paths });
  } catch (e) {
    throw new NodeError(`cannot list ${dirs[i].dir}: ${(e as Error).message}`, 400);
  }
}

export async function rfsVerify(s: NodeService, module: string): Promise<RfsVerifyResult> {
  const { rt, dirs } = replicatedDirs(s, module);
  const a = s.cluster.active;
  if (!a || !rt.config) throw conflict(`module '${module}' is not configured on a configured cluster`);
  const local = rt.state?.local;
  if (local !== "PRIM" && local !== "SECOND") {
    throw conflict(
      `module '${module}' is ${
        local ?? "STOP"
      } here: rfsverify compares the two copies while the module is ` +
        `PRIM on one node and SECOND on the other (on ALONE, 'rfsdiff' estimates what the secondary lacks)`,
    );
  }
  const peer = mirrorPeer(a.config, rt.config, a.localNode);
  const path = `/api/v1/modules/${encodeURIComponent(module)}/rfs/digest`;
  const remote = (dir: number) => async (paths?: readonly string[]): Promise<DigestEntry[]> => {
    const r = await peerRequest(s, peer, "POST", path, {
      body: paths ? { dir, paths } : { dir },
      command: "rfsverify",
      timeoutMs: PEER_TIMEOUT_MS,
    });
    if (r.status !== 200) {
      const err = (r.json as { error?: string } | undefined)?.error ?? `HTTP ${r.status}`;
      throw new NodeError(`${peer} could not list its copy: ${err}`, 502);
    }
    return (r.json as { entries: DigestEntry[] }).entries;
  };
  const mine = (dir: number) => (paths?: readonly string[]) => localDigest(s, module, { dir, paths });
  const results: (DirVerification & { dir: string })[] = [];
  for (const [i, d] of dirs.entries()) {
    const [prim, second] = local === "PRIM" ? [mine(i), remote(i)] : [remote(i), mine(i)];
    results.push({ dir: d.dir, ...await verifyDir(prim, second, { rechecks: 3, delayMs: 1000 }) });
  }
  const total = results.reduce((n, r) => n + r.differences.length, 0);
  const log = (level: "I" | "E", message: string) =>
    rt.log?.append({ at: Date.now(), component: "rfsverify", level, message });
  for (const r of results) {
    for (const d of r.differences.slice(0, 50)) log("E", `rfsverify ${r.dir}: ${describeDifference(d)}`);
  }
  log(
    total ? "E" : "I",
    `rfsverify: ${results.reduce((n, r) => n + r.entries, 0)} entries compared with ${peer}, ` +
      `${total} difference${total === 1 ? "" : "s"}`,
  );
  return {
    module,
    primary: local === "PRIM" ? a.localNode : peer,
    secondary: local === "PRIM" ? peer : a.localNode,
    dirs: results,
    differences: total,
  };
}

/** 1 Gb/s, what a reintegration reaches on a gigabit lan when reiallowedbw does not cap it. */
const ASSUMED_LINK_BYTES_PER_S = 110 * 1024 * 1024;

export type RfsDiffResult = {
  readonly module: string;
  readonly node: string;
  readonly dirs: readonly (ZoneSummary & { readonly dir: string })[];
  readonly bytes: number;
  readonly files: number;
  /** rate of the estimate: the reiallowedbw cap, else a 1 Gb/s link */
  readonly rateBytesPerSecond: number;
  readonly rateBasis: "reiallowedbw" | "1 Gb/s link";
  readonly estimateSeconds: number;
};

/** rfsdiff (spec §3.7, on ALONE or PRIM): what the next reintegration of the secondary would copy. */
export async function rfsDiff(s: NodeService, module: string): Promise<RfsDiffResult> {
  const { rt, dirs } = replicatedDirs(s, module);
  const local = rt.state?.local;
  if (local !== "ALONE" && local !== "PRIM" || !(rt.engine instanceof MirrorRuntime)) {
    throw conflict(
      `module '${module}' is ${local ?? "STOP"} here: rfsdiff runs on the primary (ALONE or PRIM), which ` +
        `keeps the record of what changed`,
    );
  }
  let summaries: ZoneSummary[];
  try {
    summaries = await rt.engine.rfsDiff();
  } catch (e) {
    throw conflict(`rfsdiff: ${(e as Error).message}`);
  }
  const capKBs = rt.config?.rfs?.reiAllowedBandwidth;
  const rate = capKBs ? capKBs * 1024 : ASSUMED_LINK_BYTES_PER_S;
  const bytes = summaries.reduce((n, x) => n + x.bytes, 0);
  return {
    module,
    node: s.cluster.active?.localNode ?? "",
    dirs: summaries.map((x, i) => ({ dir: dirs[i]?.dir ?? `#${i}`, ...x })),
    bytes,
    files: summaries.reduce((n, x) => n + x.zoneFiles + x.wholeEntries, 0),
    rateBytesPerSecond: rate,
    rateBasis: capKBs ? "reiallowedbw" : "1 Gb/s link",
    estimateSeconds: estimateSeconds(bytes, rate),
  };
}

export function rfsVerifyRoutes(s: NodeService): Route[] {
  return [
    {
      method: "get",
      path: "/modules/{module}/rfs/diff",
      summary:
        "rfsdiff: what the next reintegration would copy (files, bytes, estimated time); on the primary",
      mutates: false,
      requiredRole: "Admin",
      handler: async (req) => ({ json: await rfsDiff(s, req.params.module) }),
    },
    {
      method: "post",
      path: "/modules/{module}/rfs/digest",
      summary: "Checksum listing of this node's copy of a replicated directory; body {dir: index, paths?}",
      mutates: false,
      requiredRole: "Admin",
      requestBody: "json",
      handler: async (req) => ({ json: { entries: await localDigest(s, req.params.module, req.json()) } }),
    },
    {
      method: "post",
      path: "/modules/{module}/rfs/verify",
      summary: "rfsverify: compare both copies of every replicated directory by checksum (PRIM or SECOND)",
      mutates: false,
      requiredRole: "Admin",
      handler: async (req) => ({ json: await rfsVerify(s, req.params.module) }),
    },
  ];
}

export type { Difference };
