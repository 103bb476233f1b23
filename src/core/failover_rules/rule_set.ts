// The rules a module evaluates: static + generated rules, then the user's <failover> rules
// (extends="yes", the default), or the user's rules alone (extends="no").

import type { ModuleConfig } from "../../config/module_types.ts";
import type { Rule } from "./ast.ts";
import { staticRules } from "./default_rules.ts";
import { generatedRules } from "./generated_rules.ts";
import { parseRules } from "./parser.ts";
import { FailoverRuleError } from "./rule_error.ts";

export type RuleSet = {
  readonly rules: readonly Rule[];
  readonly periodMs: number;
  readonly handleTimeMs: number;
};

export const DEFAULT_PERIOD_MS = 5000;
export const DEFAULT_HANDLE_TIME_MS = 15000;

export function buildRuleSet(
  config: Pick<ModuleConfig, "mode" | "rfs" | "check" | "failoverRules">,
  options: { readonly file?: string } = {},
): RuleSet {
  const file = options.file ?? "userconfig.xml";
  const failover = config.failoverRules;
  const builtIn = failover?.extends === false
    ? []
    : [...staticRules(config), ...generatedRules(config.check ?? [])];
  const rules: Rule[] = [];
  const byName = new Map<string, Rule>();
  const add = (r: Rule) => {
    const first = byName.get(r.name);
    if (first !== undefined) throw duplicate(file, r, first);
    byName.set(r.name, r);
    rules.push(r);
  };
  builtIn.forEach(add);
  for (const section of failover?.sections ?? []) parseRules(section, { file }).forEach(add);
  return {
    rules,
    periodMs: failover?.periodMs ?? DEFAULT_PERIOD_MS,
    handleTimeMs: failover?.handleTimeMs ?? DEFAULT_HANDLE_TIME_MS,
  };
}

function duplicate(file: string, rule: Rule, first: Rule): FailoverRuleError {
  const at = rule.at ?? first.at ?? { line: 1, column: 1 };
  const detail = first.origin === "user"
    ? `rule name already used at line ${first.at?.line}, column ${first.at?.column} (rule names must be unique)`
    : `rule name already used by the ${first.origin} rule '${first.name}' (choose another name, or use ` +
      `<failover extends="no"> to replace the default rules)`;
  return new FailoverRuleError({ file, at, rule: rule.name, detail });
}
