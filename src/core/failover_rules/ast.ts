// Syntax tree of the SafeKit failover rule language (spec §5):
//   label: if (expression) then action;
// Conditions are typed at parse time: a comparison compares values (resources, states, cluster()),
// and `!`, `&&`, `||` combine comparisons, so the evaluator never meets a meaningless tree.

export type ResourceState = "init" | "down" | "up" | "unknown";
export const RESOURCE_STATES: readonly ResourceState[] = ["init", "down", "up", "unknown"];

export type ActionName = "stop" | "stopstart" | "wait" | "restart" | "swap";
export const ACTION_NAMES: readonly ActionName[] = ["stop", "stopstart", "wait", "restart", "swap"];

/** 1-based position in the file the rule text came from (userconfig.xml), or in the built-in text. */
export type RulePosition = { readonly line: number; readonly column: number };

/**
 * `[local.|remote.]class.id`. The class is the first dot-separated segment (after the optional
 * side); the id is everything after it, dots included, so `intf.192.168.0.0` is class `intf`,
 * id `192.168.0.0`, and `proc.appli.exe` is class `proc`, id `appli.exe`.
 */
export type ResourceId =
  | { readonly kind: "name"; readonly name: string }
  /** `*`: every resource of the class satisfies the comparison (false when the class is empty). */
  | { readonly kind: "all" }
  /** `?`: at least one resource of the class satisfies the comparison. */
  | { readonly kind: "any" };

export type ResourceRef = {
  readonly kind: "resource";
  readonly side: "local" | "remote";
  readonly class: string;
  readonly id: ResourceId;
  readonly at?: RulePosition;
};

/** Something a comparison can compare. */
export type ValueExpr =
  | ResourceRef
  | { readonly kind: "state"; readonly state: ResourceState; readonly at?: RulePosition }
  /** cluster(): `up` while a peer of the module is known up, `down` when none is, `unknown` otherwise. */
  | { readonly kind: "cluster"; readonly at?: RulePosition };

export type Condition =
  | {
    readonly kind: "compare";
    readonly op: "==" | "!=";
    readonly left: ValueExpr;
    readonly right: ValueExpr;
  }
  | { readonly kind: "not"; readonly operand: Condition }
  | { readonly kind: "and"; readonly left: Condition; readonly right: Condition }
  | { readonly kind: "or"; readonly left: Condition; readonly right: Condition };

export type RuleAction =
  | { readonly kind: "call"; readonly name: ActionName }
  /** `rfs.uptodate=up`: sets a local resource (documented only in rfs_forceuptodate). */
  | { readonly kind: "assign"; readonly target: ResourceRef; readonly value: ResourceState };

/** Where a rule comes from: the product's static rules, a checker's generated rule, or <failover>. */
export type RuleOrigin = "static" | "generated" | "user";

export type Rule = {
  readonly name: string;
  readonly condition: Condition;
  readonly action: RuleAction;
  readonly origin: RuleOrigin;
  /** Position of the label; absent for generated rules. */
  readonly at?: RulePosition;
};

/** Full name of a named resource as stored in the resource table, e.g. `ping.testR2`. */
export function resourceName(ref: ResourceRef): string {
  const id = ref.id.kind === "name" ? ref.id.name : ref.id.kind === "all" ? "*" : "?";
  return `${ref.class}.${id}`;
}
