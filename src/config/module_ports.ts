// Per-module ports, derived from the module id (spec §1.2): each module gets its own block so
// several modules run side by side on one node.

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 1) throw new RangeError(`module id must be an integer >= 1 (got ${id})`);
}

/** UDP port of the mirror heartbeats: 8888 + (id−1), unless <heart port> overrides it. */
export function heartPort(id: number, override?: number): number {
  checkId(id);
  return override ?? 8888 + (id - 1);
}

/** TCP port of replication (safenfs_port): 5600 + (id−1)×4. */
export function rfsPort(id: number): number {
  checkId(id);
  return 5600 + (id - 1) * 4;
}

/** UDP port of the farm membership protocol: 4803 + (id−1)×3, unless <farm port> overrides it. */
export function farmPort(id: number, override?: number): number {
  checkId(id);
  return override ?? 4803 + (id - 1) * 3;
}
