// The server certificate of a node: its SAN must hold every address and name the node is reached by
// (spec §9.1: "every address in cluster.xml and every host used in URLs (lower-case DNS)"), otherwise the
// console, distributed commands and peers fail with a name mismatch on some lan.
import type { ClusterConfig } from "../../config/mod.ts";
import { type KeyAndRequest, makeKeyAndRequest } from "./csr.ts";
import type { KeyKind } from "./keys.ts";
import { type SanEntry, sanEntryFor, uniqueSans } from "./san.ts";

export type ServerIdentity = {
  /** This host's name (Deno.hostname()); it becomes the CN and a DNS SAN. */
  readonly hostname: string;
  readonly cluster?: ClusterConfig;
  /** This node's name in cluster.xml; its addr and laddr on every lan go into the SAN. */
  readonly localNode?: string;
  /** NAT/public names and addresses, load balancer names, "localhost"... (SafeKit's edited ipnames.json). */
  readonly extraNames?: readonly string[];
};

/** Every address and name of this node, in a stable order: hostname, cluster addresses lan by lan, extras. */
export function serverSanEntries(id: ServerIdentity): SanEntry[] {
  const all: SanEntry[] = [sanEntryFor(id.hostname)];
  if (id.cluster && id.localNode) {
    for (const lan of id.cluster.lans) {
      for (const n of lan.nodes) {
        if (n.name !== id.localNode) continue;
        all.push(sanEntryFor(n.addr));
        if (n.laddr) all.push(sanEntryFor(n.laddr));
      }
    }
  }
  for (const x of id.extraNames ?? []) if (x.trim()) all.push(sanEntryFor(x));
  return uniqueSans(all);
}

/** The name under which the CA files this node's certificate (SafeKit: server_<HOSTNAME>). */
export function serverCertName(hostname: string): string {
  return `server_${hostname}`;
}

export function serverKeyAndRequest(id: ServerIdentity, kind: KeyKind = "ecdsa"): Promise<KeyAndRequest> {
  return makeKeyAndRequest(id.hostname.toLowerCase(), serverSanEntries(id), kind);
}
