// Applies the farm filter of nft_farm_filter.ts with `nft -f`: each call is one kernel transaction, so a
// membership change swaps a group's buckets without a window where a bucket is owned twice or by no one
// on this node.

import { type HostCommands, runChecked } from "./host_commands.ts";
import { bucketUpdate, type FarmFilterSpec, farmRuleset, removeFarmRuleset } from "./nft_farm_filter.ts";

export async function applyFarmFilter(host: HostCommands, spec: FarmFilterSpec): Promise<void> {
  await runChecked(host, "nft", ["-f", "-"], farmRuleset(spec));
}

/** Replaces the buckets of group `groupIndex` (its position in <loadbalancing_list>). */
export async function setFarmBuckets(
  host: HostCommands,
  table: string,
  groupIndex: number,
  buckets: readonly number[],
): Promise<void> {
  await runChecked(host, "nft", ["-f", "-"], bucketUpdate(table, groupIndex, buckets));
}

/** Idempotent: removing an absent filter succeeds. */
export async function removeFarmFilter(host: HostCommands, table: string): Promise<void> {
  await runChecked(host, "nft", ["-f", "-"], removeFarmRuleset(table));
}
