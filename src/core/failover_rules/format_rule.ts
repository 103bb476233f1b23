// Canonical text of a rule, as a user would write it: parsing it gives the same tree back.
// Used for logs, `safekit` listings of the effective rules, and documentation.

import { type Condition, resourceName, type Rule, type RuleAction, type ValueExpr } from "./ast.ts";

export function formatRule(rule: Rule): string {
  return `${rule.name}: if (${formatCondition(rule.condition)}) then ${formatAction(rule.action)};`;
}

export function formatAction(action: RuleAction): string {
  return action.kind === "call" ? `${action.name}()` : `${formatValue(action.target)}=${action.value}`;
}

const PRECEDENCE = { or: 1, and: 2, not: 3, compare: 4 } as const;

export function formatCondition(c: Condition, outer = 0): string {
  const own = PRECEDENCE[c.kind];
  const text = c.kind === "compare"
    ? `${formatValue(c.left)} ${c.op} ${formatValue(c.right)}`
    : c.kind === "not"
    ? (c.operand.kind === "not" ? `!${formatCondition(c.operand)}` : `!(${formatCondition(c.operand)})`)
    : `${formatCondition(c.left, own)} ${c.kind === "and" ? "&&" : "||"} ${
      formatCondition(c.right, own + 1)
    }`;
  return own < outer ? `(${text})` : text;
}

export function formatValue(v: ValueExpr): string {
  if (v.kind === "state") return v.state;
  if (v.kind === "cluster") return "cluster()";
  return v.side === "remote" ? `remote.${resourceName(v)}` : resourceName(v);
}
