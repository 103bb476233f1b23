// The static rules the product ships (spec §5), written in the rule language itself and parsed
// once, so they are checked by the same parser as user rules.
// Not here: the mirror automaton's internal rules (notuptodate_server, degraded_server,
// rfs_syncat_wait, failover-off): their bodies are not published and the mirror automaton
// implements them directly; errd acts by itself ("Action restart called by errd").

import type { ModuleConfig } from "../../config/module_types.ts";
import type { Rule } from "./ast.ts";
import { parseRules } from "./parser.ts";

export const STATIC_RULE_TEXT = {
  module_failure: "module_failure: if (module.? == down) then wait();",
  interface_failure: "interface_failure: if (intf.? == down) then wait();",
  ip_failure: "ip_failure: if (ip.? == down) then stopstart();",
  splitbrain_failure: "splitbrain_failure: if (splitbrain.uptodate == down) then wait();",
  rfs_forceuptodate:
    "rfs_forceuptodate: if (heartbeat.* == down && cluster() == down && rfs.synced == up && rfs.uptodate == down) then rfs.uptodate=up;",
} as const;

export type StaticRuleName = keyof typeof STATIC_RULE_TEXT;

function builtin(name: StaticRuleName): Rule {
  const [rule] = parseRules({ text: STATIC_RULE_TEXT[name], line: 1, column: 1 }, {
    file: `<static rule ${name}>`,
    origin: "static",
  });
  // Positions in the built-in text mean nothing to a user.
  return { ...rule, at: undefined };
}

const STATIC_RULES: Readonly<Record<StaticRuleName, Rule>> = Object.fromEntries(
  (Object.keys(STATIC_RULE_TEXT) as StaticRuleName[]).map((n) => [n, builtin(n)]),
) as Record<StaticRuleName, Rule>;

/** syncdelta is in minutes (spec §2.2): rfs_forceuptodate exists only when syncdelta > 1. */
const ONE_MINUTE_MS = 60_000;

/**
 * The static rules of a module: module_failure, interface_failure and ip_failure in every mode;
 * splitbrain_failure in mirror mode; rfs_forceuptodate in mirror mode when syncdelta > 1 minute.
 */
export function staticRules(config: Pick<ModuleConfig, "mode" | "rfs">): Rule[] {
  const names: StaticRuleName[] = ["module_failure", "interface_failure", "ip_failure"];
  if (config.mode === "mirror") {
    names.push("splitbrain_failure");
    if ((config.rfs?.syncDeltaMs ?? 0) > ONE_MINUTE_MS) names.push("rfs_forceuptodate");
  }
  return names.map((n) => STATIC_RULES[n]);
}
