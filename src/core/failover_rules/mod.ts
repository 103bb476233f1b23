// Public face of the failover rule engine: parse the SafeKit rule language, build a module's rule
// set (static + generated + user rules), evaluate it, and run the failover machine (period,
// handle_time, WAIT and wakeup). Pure: no I/O, no clock.

export type {
  ActionName,
  Condition,
  ResourceId,
  ResourceRef,
  ResourceState,
  Rule,
  RuleAction,
  RuleOrigin,
  RulePosition,
  ValueExpr,
} from "./ast.ts";
export { ACTION_NAMES, RESOURCE_STATES, resourceName } from "./ast.ts";
export { parseRules } from "./parser.ts";
export type { ParseOptions, RuleSource } from "./parser.ts";
export { FailoverRuleError } from "./rule_error.ts";
export { formatAction, formatCondition, formatRule } from "./format_rule.ts";
export { STATIC_RULE_TEXT, staticRules } from "./default_rules.ts";
export type { StaticRuleName } from "./default_rules.ts";
export { generatedRules } from "./generated_rules.ts";
export { buildRuleSet, DEFAULT_HANDLE_TIME_MS, DEFAULT_PERIOD_MS } from "./rule_set.ts";
export type { RuleSet } from "./rule_set.ts";
export { evaluate, holds, referencedResources } from "./evaluate.ts";
export type {
  EvalContext,
  Evaluation,
  FiredRule,
  InitWait,
  ResourceTable,
  ResourceView,
} from "./evaluate.ts";
export { failoverMachineStep, IMPLICIT_WAKEUP, initialFailoverState } from "./failover_machine.ts";
export type {
  FailoverEffect,
  FailoverMachineEvent,
  FailoverMachineState,
  FailoverMode,
} from "./failover_machine.ts";
