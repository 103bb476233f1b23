// Rules generated from checkers (spec §5, §4.11): a tcp, ping or custom checker whose action is
// stop, stopstart, restart or wait gets `<t|p|c>_<ident>: if (<class>.<ident> == down) then <action>();`.
// action="noaction" generates nothing (the user writes a rule, or the checker calls safekit itself).
// intf, ip, module and splitbrain checkers are covered by the static rules instead.

import type { Checker } from "../../config/module_types.ts";
import type { ActionName, ResourceRef, Rule } from "./ast.ts";

const PREFIX = { tcp: "t", ping: "p", custom: "c" } as const;

export function generatedRules(checkers: readonly Checker[]): Rule[] {
  const rules: Rule[] = [];
  for (const c of checkers) {
    if (c.kind !== "tcp" && c.kind !== "ping" && c.kind !== "custom") continue;
    if (c.action === "noaction") continue;
    rules.push({
      name: `${PREFIX[c.kind]}_${c.ident}`,
      condition: {
        kind: "compare",
        op: "==",
        left: resourceRef(c.resource),
        right: { kind: "state", state: "down" },
      },
      action: { kind: "call", name: c.action satisfies ActionName },
      origin: "generated",
    });
  }
  return rules;
}

/** `tcp.R1test` -> class tcp, id R1test (the class is the first segment, the id the rest). */
export function resourceRef(name: string): ResourceRef {
  const dot = name.indexOf(".");
  return {
    kind: "resource",
    side: "local",
    class: name.slice(0, dot),
    id: { kind: "name", name: name.slice(dot + 1) },
  };
}
