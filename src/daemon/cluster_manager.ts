// The node's cluster configuration: cluster.xml, the cluster key and the lock flag, under SAFEVAR/cluster.
// Applying a configuration validates it completely before touching anything, then writes each file
// crash-safely; the node service rebinds its addresses afterwards without a restart.
import { join } from "node:path";
import { addrOf, type ClusterConfig, configSignature, nodeNames, parseClusterXml } from "../config/mod.ts";
import { atomicWriteFile, readTextIfExists } from "../platform/atomic_write.ts";
import { isLocalAddress } from "../platform/local_addresses.ts";
import type { NodePaths } from "../platform/node_paths.ts";
import { looksLikeZip, readClusterBundle, writeClusterBundle } from "./cluster_zip.ts";
import { conflict, NodeError } from "./node_error.ts";

export type ClusterMeta = { date: string; lock: boolean; signature: string };

export type ActiveCluster = {
  readonly config: ClusterConfig;
  readonly xml: string;
  readonly meta: ClusterMeta;
  /** This node's name in cluster.xml. */
  readonly localNode: string;
};

export function keyToHex(key: Uint8Array): string {
  return Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function hexToKey(hex: string): Uint8Array {
  return Uint8Array.from(hex.trim().match(/../g)!.map((h) => parseInt(h, 16)));
}

/**
 * Finds which node of cluster.xml this host is: the node with a local address on some lan. Where several
 * are local (several nodes on one host), SAFENODE names the one; an ambiguous or absent match is an error.
 */
export function findLocalNode(
  cfg: ClusterConfig,
  safenode: string | undefined,
  isLocal = isLocalAddress,
): string {
  const names = nodeNames(cfg);
  if (safenode) {
    if (!names.includes(safenode)) {
      throw new NodeError(`SAFENODE='${safenode}' is not a node of cluster.xml (nodes: ${names.join(", ")})`);
    }
    return safenode;
  }
  const local = names.filter((n) =>
    cfg.lans.some((lan) =>
      lan.nodes.some((x) => x.name === n && (isLocal(x.addr) || (x.laddr && isLocal(x.laddr))))
    )
  );
  if (local.length === 1) return local[0];
  if (local.length === 0) {
    throw new NodeError(
      `no node of cluster.xml has an address of this host (nodes: ${names.join(", ")}); ` +
        `check the addresses, or set SAFENODE to this node's name`,
    );
  }
  throw new NodeError(
    `several nodes of cluster.xml have an address of this host (${local.join(", ")}); ` +
      `set SAFENODE to this node's name`,
  );
}

export class ClusterManager {
  #active: ActiveCluster | null = null;
  #key: Uint8Array | null = null;
  #locked = false;

  constructor(private readonly paths: NodePaths, private readonly safenode: string | undefined) {}

  get active(): ActiveCluster | null {
    return this.#active;
  }
  get key(): Uint8Array | null {
    return this.#key;
  }
  get locked(): boolean {
    return this.#locked;
  }
  private get metaFile() {
    return join(this.paths.clusterDir, "cluster.meta.json");
  }

  /** Loads what is on disk; a damaged file is reported, not silently replaced. */
  async load(): Promise<string[]> {
    const problems: string[] = [];
    const meta = await readTextIfExists(this.metaFile);
    const parsedMeta: Partial<ClusterMeta> = meta ? JSON.parse(meta) : {};
    this.#locked = parsedMeta.lock === true;
    const keyHex = await readTextIfExists(this.paths.clusterKey);
    if (keyHex !== null) {
      if (/^[0-9a-f]{64}\s*$/.test(keyHex)) this.#key = hexToKey(keyHex);
      else problems.push(`${this.paths.clusterKey} is damaged (expected 64 hex digits): cluster key ignored`);
    }
    const xml = await readTextIfExists(this.paths.clusterXml);
    if (xml !== null) {
      try {
        const config = parseClusterXml(xml, this.paths.clusterXml);
        const localNode = findLocalNode(config, this.safenode);
        const signature = await configSignature(xml);
        this.#active = {
          config,
          xml,
          localNode,
          meta: { date: parsedMeta.date ?? new Date().toISOString(), lock: this.#locked, signature },
        };
      } catch (e) {
        problems.push(`cluster configuration not loaded: ${(e as Error).message}`);
      }
    }
    return problems;
  }

  /** Validates a cluster.xml without applying it. */
  check(xml: string): { config: ClusterConfig; localNode: string } {
    const config = parseClusterXml(xml, "cluster.xml");
    return { config, localNode: findLocalNode(config, this.safenode) };
  }

  /**
   * `safekit cluster config [FILE] [lock|unlock]`: an XML text or a zip bundle (xml + key); an empty body
   * keeps the configuration and makes a new key. A locked configuration refuses changes until `unlock`.
   */
  async apply(
    body: Uint8Array,
    lock: "lock" | "unlock" | undefined,
    fromPeer = false,
  ): Promise<ActiveCluster> {
    if (this.#locked && lock !== "unlock") {
      throw conflict("the cluster configuration is locked (run 'safekit cluster config unlock' first)");
    }
    let xml: string;
    let keyHex: string | null = null;
    if (body.length === 0 && lock && this.#active) {
      // `cluster config lock|unlock` alone changes only the flag: locking must not break the cluster by
      // changing its key (our choice; SafeKit documents no-argument `cluster config` as "new keys").
      const meta = { ...this.#active.meta, lock: lock === "lock" };
      await atomicWriteFile(this.metaFile, JSON.stringify(meta), 0o644);
      this.#locked = meta.lock;
      this.#active = { ...this.#active, meta };
      return this.#active;
    }
    if (body.length === 0) {
      if (!this.#active) throw new NodeError("no cluster configuration to keep: give a cluster.xml file");
      xml = this.#active.xml;
    } else if (looksLikeZip(body)) {
      ({ xml, keyHex } = await readClusterBundle(body));
    } else {
      xml = new TextDecoder("utf-8", { fatal: false }).decode(body);
    }
    const { config, localNode } = this.check(xml);
    // A peer's bundle carries the cluster's key; a local apply without a key makes a new one (spec §3.2).
    const key = keyHex ? hexToKey(keyHex) : fromPeer ? this.#key : crypto.getRandomValues(new Uint8Array(32));
    const meta: ClusterMeta = {
      date: new Date().toISOString(),
      lock: lock === "lock" ? true : lock === "unlock" ? false : this.#locked,
      signature: await configSignature(xml),
    };
    await atomicWriteFile(this.paths.clusterXml, xml, 0o644);
    if (key) await this.#writeKey(key);
    await atomicWriteFile(this.metaFile, JSON.stringify(meta), 0o644);
    this.#locked = meta.lock;
    this.#active = { config, xml, localNode, meta };
    return this.#active;
  }

  async #writeKey(key: Uint8Array): Promise<void> {
    if (this.#key && keyToHex(this.#key) !== keyToHex(key)) {
      // Kept so distributed commands can still reach nodes that have not received the new key yet.
      await atomicWriteFile(this.paths.clusterKey + ".prev", keyToHex(this.#key) + "\n", 0o600);
    }
    await atomicWriteFile(this.paths.clusterKey, keyToHex(key) + "\n", 0o600);
    this.#key = key;
  }

  async deconfig(): Promise<void> {
    if (this.#locked) {
      throw conflict("the cluster configuration is locked (run 'safekit cluster config unlock' first)");
    }
    for (
      const f of [
        this.paths.clusterXml,
        this.paths.clusterKey,
        this.paths.clusterKey + ".prev",
        this.metaFile,
      ]
    ) {
      await Deno.remove(f).catch(() => {});
    }
    this.#active = null;
    this.#key = null;
  }

  async genkey(): Promise<void> {
    await this.#writeKey(crypto.getRandomValues(new Uint8Array(32)));
  }

  async delkey(): Promise<void> {
    if (this.#key) await atomicWriteFile(this.paths.clusterKey + ".prev", keyToHex(this.#key) + "\n", 0o600);
    await Deno.remove(this.paths.clusterKey).catch(() => {});
    this.#key = null;
  }

  async exportBundle(): Promise<Uint8Array> {
    if (!this.#active) throw new NodeError("this node has no cluster configuration to export");
    return await writeClusterBundle({
      xml: this.#active.xml,
      keyHex: this.#key ? keyToHex(this.#key) : null,
    });
  }

  /** URL of a node's web service on the command lan. */
  webUrlOf(node: string, port: number, scheme: "http" | "https" = "http"): string | null {
    if (!this.#active) return null;
    const addr = addrOf(this.#active.config, node);
    return addr
      ? `${scheme}://${addr.includes(":") && !addr.startsWith("[") ? `[${addr}]` : addr}:${port}`
      : null;
  }
}
