// Typed form of cluster.xml (spec §4.1). Times are milliseconds.

import type { SourcePosition } from "./source_position.ts";

export type ClusterNode = {
  readonly name: string;
  /** IPv4, IPv6 literal in brackets, or host name; the external address on NAT. */
  readonly addr: string;
  /** Local address on NAT configurations. */
  readonly laddr?: string;
  readonly at: SourcePosition;
};

export type ClusterLan = {
  readonly name: string;
  /** True for the one lan that carries distributed commands. */
  readonly command: boolean;
  readonly nodes: readonly ClusterNode[];
  readonly at: SourcePosition;
};

export type ClusterConfig = {
  readonly file: string;
  /** UDP port of the membership protocol (default 4800). */
  readonly port: number;
  /** Time between membership heartbeat packets (default 100 ms). */
  readonly pulseMs: number;
  /** Missed heartbeats before electing a new leader (default 20). */
  readonly mlostCount: number;
  /** Missed heartbeats before declaring a follower offline (default 10). */
  readonly slostCount: number;
  readonly lans: readonly ClusterLan[];
  readonly commandLan: string;
  /** Obsolete constructs accepted and ignored (e.g. console/framework attributes). */
  readonly warnings: readonly string[];
};
