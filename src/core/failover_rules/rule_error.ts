// The rule parser's error: a ConfigError (so callers handle one error type for userconfig.xml) whose
// message names the rule and the expected token, e.g.
//   Error: userconfig.xml:42:17: failover rule 'c_app': expected ')' but found 'then'

import { ConfigError } from "../../config/config_error.ts";
import type { RulePosition } from "./ast.ts";

export type RuleErrorFields = {
  readonly file: string;
  readonly at: RulePosition;
  /** Rule label, when the error comes after it. */
  readonly rule?: string;
  readonly expected?: string;
  readonly found?: string;
  /** Replaces "expected X but found Y" when the problem is not a missing token. */
  readonly detail?: string;
};

export class FailoverRuleError extends ConfigError {
  readonly rule?: string;

  constructor(f: RuleErrorFields) {
    const what = f.detail ?? `expected ${f.expected} but found ${f.found}`;
    const detail = f.rule === undefined ? `failover rules: ${what}` : `failover rule '${f.rule}': ${what}`;
    super({
      file: f.file,
      line: f.at.line,
      column: f.at.column,
      element: "",
      expected: f.expected,
      found: f.found,
      detail,
    });
    this.name = "FailoverRuleError";
    this.rule = f.rule;
  }
}
