// Evaluates rules over resource values (pure; shared by mirror and farm modules).
//
// - A named resource that is not in the table compares as `unknown` (a typo or a checker that is
//   not configured never fires `== down`; use referencedResources() to warn about such names).
// - `remote.x.y` reads the peer's table; when the peer is unknown (remote null/absent) every remote
//   resource is `unknown` and remote wildcards range over nothing.
// - `class.* op v` is true when the class has at least one resource and every one satisfies `op v`;
//   `class.? op v` when at least one does. So `ping.* != up` means "every ping resource is not up",
//   which differs from `!(ping.* == up)`, "not every ping resource is up".
// - cluster() is `up` when ctx.clusterUp is true, `down` when false, `unknown` when not given.

import type { Condition, ResourceRef, ResourceState, Rule, RuleAction, ValueExpr } from "./ast.ts";

/** Resource name -> value. Values are usually states; a few resources hold other text (dates). */
export type ResourceTable = ReadonlyMap<string, string>;

export type ResourceView = {
  readonly local: ResourceTable;
  /** null or absent: the peer is unknown (farm modules, or no heartbeat). */
  readonly remote?: ResourceTable | null;
};

export type EvalContext = { readonly clusterUp?: boolean };

export type FiredRule = { readonly rule: Rule; readonly action: RuleAction };

export type InitWait = {
  readonly rule: Rule;
  /** Resources read by this wait rule whose value is `init` (their checker has not reported yet). */
  readonly resources: readonly string[];
};

export type Evaluation = {
  /** Rules whose condition is true, in rule order. */
  readonly fired: readonly FiredRule[];
  /** Wait rules reading at least one `init` resource: they keep a starting module in WAIT (Transient). */
  readonly initWaits: readonly InitWait[];
};

export function evaluate(rules: readonly Rule[], resources: ResourceView, ctx: EvalContext = {}): Evaluation {
  const fired: FiredRule[] = [];
  const initWaits: InitWait[] = [];
  for (const rule of rules) {
    if (holds(rule.condition, resources, ctx)) fired.push({ rule, action: rule.action });
    if (rule.action.kind === "call" && rule.action.name === "wait") {
      const inits = readResources(rule.condition, resources).filter(([, v]) => v === "init").map(([n]) => n);
      if (inits.length > 0) initWaits.push({ rule, resources: inits });
    }
  }
  return { fired, initWaits };
}

export function holds(c: Condition, view: ResourceView, ctx: EvalContext): boolean {
  switch (c.kind) {
    case "not":
      return !holds(c.operand, view, ctx);
    case "and":
      return holds(c.left, view, ctx) && holds(c.right, view, ctx);
    case "or":
      return holds(c.left, view, ctx) || holds(c.right, view, ctx);
    case "compare": {
      const test = (a: string, b: string) => (c.op === "==" ? a === b : a !== b);
      const wild = isWildcard(c.left) ? c.left : isWildcard(c.right) ? c.right : undefined;
      if (wild === undefined) return test(single(c.left, view, ctx), single(c.right, view, ctx));
      const members = classMembers(wild, view).map(([, v]) => v);
      const ok = wild === c.left
        ? (m: string) => test(m, single(c.right, view, ctx))
        : (m: string) => test(single(c.left, view, ctx), m);
      return wild.id.kind === "all" ? members.length > 0 && members.every(ok) : members.some(ok);
    }
  }
}

function isWildcard(v: ValueExpr): v is ResourceRef {
  return v.kind === "resource" && v.id.kind !== "name";
}

function single(v: ValueExpr, view: ResourceView, ctx: EvalContext): string {
  if (v.kind === "state") return v.state;
  if (v.kind === "cluster") return ctx.clusterUp === undefined ? "unknown" : ctx.clusterUp ? "up" : "down";
  const table = tableOf(v, view);
  if (v.id.kind !== "name") return "unknown";
  return table?.get(`${v.class}.${v.id.name}`) ?? ("unknown" satisfies ResourceState);
}

function tableOf(ref: ResourceRef, view: ResourceView): ResourceTable | null {
  return ref.side === "local" ? view.local : view.remote ?? null;
}

/** [name, value] of the resources a wildcard ranges over (`remote.` names are prefixed). */
function classMembers(ref: ResourceRef, view: ResourceView): [string, string][] {
  const table = tableOf(ref, view);
  if (table === null) return [];
  const prefix = `${ref.class}.`;
  const side = ref.side === "remote" ? "remote." : "";
  return [...table].filter(([name]) => name.startsWith(prefix)).map(([n, v]) => [side + n, v]);
}

/** [name, value] of every resource a condition reads, wildcards expanded. */
function readResources(c: Condition, view: ResourceView): [string, string][] {
  if (c.kind === "not") return readResources(c.operand, view);
  if (c.kind !== "compare") return [...readResources(c.left, view), ...readResources(c.right, view)];
  const out: [string, string][] = [];
  for (const v of [c.left, c.right]) {
    if (v.kind !== "resource") continue;
    if (v.id.kind !== "name") out.push(...classMembers(v, view));
    else {
      const name = `${v.class}.${v.id.name}`;
      const value = tableOf(v, view)?.get(name);
      if (value !== undefined) out.push([v.side === "remote" ? `remote.${name}` : name, value]);
    }
  }
  return out;
}

/** Named resources (not wildcards) the rules read or assign, e.g. to warn about unknown names. */
export function referencedResources(rules: readonly Rule[]): string[] {
  const names = new Set<string>();
  const visit = (c: Condition): void => {
    if (c.kind === "not") visit(c.operand);
    else if (c.kind !== "compare") {
      visit(c.left);
      visit(c.right);
    } else {
      for (const v of [c.left, c.right]) {
        if (v.kind === "resource" && v.id.kind === "name") {
          names.add(`${v.side === "remote" ? "remote." : ""}${v.class}.${v.id.name}`);
        }
      }
    }
  };
  for (const r of rules) {
    visit(r.condition);
    if (r.action.kind === "assign" && r.action.target.id.kind === "name") {
      names.add(`${r.action.target.class}.${r.action.target.id.name}`);
    }
  }
  return [...names];
}
