// What every verb gets: where to print, how to reach the node service, and whether to print JSON.
import type { NodePaths } from "../platform/node_paths.ts";
import type { ApiClient } from "./daemon_client.ts";

export type CliIo = { out(text: string): void; err(text: string): void };

export type CliContext = {
  readonly io: CliIo;
  readonly client: ApiClient;
  readonly paths: NodePaths;
  readonly json: boolean;
  /** True when the verb runs inside a node service on behalf of a distributed (-H) command. */
  readonly remote: boolean;
  /** Working directory for relative file arguments. */
  readonly cwd: string;
};

export type Verb = (ctx: CliContext, args: readonly string[]) => Promise<number>;

/** Prints a table with columns padded to their widest cell. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "";
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join("  ")).join("\n");
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.out(JSON.stringify(value, null, 2));
}
