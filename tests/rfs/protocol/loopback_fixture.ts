// Shared by the replication tests: a secondary server and a primary client on loopback addresses
// 127.0.0.70-90 (other test suites use 127.0.0.2/3), ephemeral high ports, and tree snapshots.
import { join } from "node:path";
import { createHash } from "node:crypto";
import { ReplicationServer, type ReplicationServerOptions } from "../../../src/rfs/replication_server.ts";
import { ReplicationClient, type ReplicationClientOptions } from "../../../src/rfs/replication_client.ts";
import { openTreeRoot, type TreeRoot } from "../../../src/rfs/beneath_root.ts";

export const CLUSTER_KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
export const HOST = "127.0.0.71";

export async function startSecondary(
  dirs: string[],
  opts: Partial<ReplicationServerOptions> = {},
): Promise<ReplicationServer> {
  const server = new ReplicationServer({
    hostname: HOST,
    port: 0,
    clusterKey: CLUSTER_KEY,
    module: "mirror",
    dirs,
    allowedNodes: new Set(["node1"]),
    ...opts,
  });
  server.start();
  return await Promise.resolve(server);
}

export function primaryClient(
  server: ReplicationServer,
  roots: TreeRoot[],
  opts: Partial<ReplicationClientOptions> = {},
): ReplicationClient {
  return new ReplicationClient({
    host: HOST,
    port: server.port,
    clusterKey: CLUSTER_KEY,
    node: "node1",
    module: "mirror",
    roots: roots.map((r) => r.fd),
    async: "none",
    lockTimeoutMs: 5000,
    sendTimeoutMs: 5000,
    ...opts,
  });
}

export async function tempDirs(n: number): Promise<{ dirs: string[]; cleanup: () => Promise<void> }> {
  const base = await Deno.makeTempDir({ prefix: "skrepl-" });
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = join(base, `d${i}`);
    await Deno.mkdir(d);
    dirs.push(d);
  }
  return { dirs, cleanup: () => Deno.remove(base, { recursive: true }) };
}

export function roots(dirs: string[]): TreeRoot[] {
  return dirs.map((d) => openTreeRoot(d));
}

/** path -> a line describing type, permissions, owner and content (files: size + sha256; symlinks: target). */
export async function snapshot(dir: string, opts: { mtime?: boolean } = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      const full = join(dir, p);
      const st = await Deno.lstat(full);
      const perm = ((st.mode ?? 0) & 0o7777).toString(8);
      const mt = opts.mtime ? ` mtime=${st.mtime?.getTime()}` : "";
      if (st.isSymlink) out[p] = `l ${await Deno.readLink(full)} ${st.uid}:${st.gid}`;
      else if (st.isDirectory) {
        out[p] = `d ${perm} ${st.uid}:${st.gid}`;
        await walk(p);
      } else if (st.isFile) {
        const sha = createHash("sha256").update(await Deno.readFile(full)).digest("hex").slice(0, 16);
        out[p] = `f ${perm} ${st.uid}:${st.gid} ${st.size} ${sha}${mt}`;
      } else out[p] = `o ${st.mode?.toString(8)}`;
    }
  };
  await walk("");
  return out;
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
