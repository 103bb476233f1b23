// Parser of the SafeKit failover rule language (spec §5), recursive descent with precise errors.
//
//   rules      ::= { label ':' 'if' '(' or ')' 'then' action ';' }
//   or         ::= and { '||' and }
//   and        ::= not { '&&' not }
//   not        ::= '!' not | comparison          -- `!` negates the comparison that follows
//   comparison ::= '(' or ')' | value ('==' | '!=') value
//   value      ::= resource | init | down | up | unknown | 'cluster' '(' ')'
//   action     ::= ('stop'|'stopstart'|'wait'|'restart'|'swap') '(' ')' | resource '=' state
//
// Lua sections are refused (see lua_refusal.ts).

import {
  ACTION_NAMES,
  type ActionName,
  type Condition,
  RESOURCE_STATES,
  type ResourceRef,
  type ResourceState,
  type Rule,
  type RuleAction,
  type RuleOrigin,
  type RulePosition,
  type ValueExpr,
} from "./ast.ts";
import { positionMapper, type Token, tokenize } from "./lexer.ts";
import { FailoverRuleError } from "./rule_error.ts";
import { luaRefusal } from "./lua_refusal.ts";

export type RuleSource = {
  readonly text: string;
  /** Position of the first character of text in the file (the CDATA start). */
  readonly line: number;
  readonly column: number;
  readonly language?: "safekit" | "lua";
};

export type ParseOptions = {
  /** File named in errors; default userconfig.xml. */
  readonly file?: string;
  readonly origin?: RuleOrigin;
};

const VALUE_EXPECTED = "a resource (class.id), a state (init, down, up, unknown), cluster() or '('";
const ACTION_EXPECTED =
  "an action (stop(), stopstart(), wait(), restart(), swap()) or an assignment like rfs.uptodate=up";

/** Parses one rule section. Throws FailoverRuleError on the first error. Rule names must be unique. */
export function parseRules(source: RuleSource, options: ParseOptions = {}): Rule[] {
  const file = options.file ?? "userconfig.xml";
  const toPos = positionMapper(source.text, { line: source.line, column: source.column });
  if (source.language === "lua" || /^\s*--\s*Lua Rules/i.test(source.text)) {
    const lua = luaRefusal(source.text);
    throw new FailoverRuleError({ file, at: toPos(lua.offset), detail: lua.message });
  }
  const p = new Parser(tokenize(source.text), file, toPos, options.origin ?? "user");
  return p.rules();
}

function describe(t: Token): string {
  return t.kind === "eof" ? "end of rules" : `'${t.text}'`;
}

class Parser {
  private i = 0;
  private rule: string | undefined;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly file: string,
    private readonly toPos: (offset: number) => RulePosition,
    private readonly origin: RuleOrigin,
  ) {}

  rules(): Rule[] {
    const out: Rule[] = [];
    const seen = new Map<string, RulePosition>();
    while (this.peek().kind !== "eof") {
      this.rule = undefined;
      const r = this.oneRule();
      const first = seen.get(r.name);
      if (first !== undefined) {
        throw new FailoverRuleError({
          file: this.file,
          at: r.at!,
          rule: r.name,
          detail:
            `rule name already used at line ${first.line}, column ${first.column} (rule names must be unique)`,
        });
      }
      seen.set(r.name, r.at!);
      out.push(r);
    }
    return out;
  }

  private oneRule(): Rule {
    const label = this.peek();
    if (label.kind === "word" && label.text === "if" && this.peek(1).text === "(") {
      this.fail(label, "a rule name followed by ':' (e.g. my_rule: if (...) then wait();)");
    }
    if (label.kind !== "word") this.fail(label, "a rule name followed by ':'");
    if (/[*?]/.test(label.text)) {
      this.failDetail(label, `invalid rule name '${label.text}' ('*' and '?' are not allowed in rule names)`);
    }
    this.next();
    const at = this.toPos(label.offset);
    this.rule = label.text;
    this.expectPunct(":");
    this.expectWord("if");
    this.expectPunct("(");
    const condition = this.or();
    this.expectPunct(")", "'&&', '||' or ')'");
    this.expectWord("then");
    const action = this.action();
    this.expectPunct(";");
    return { name: label.text, condition, action, origin: this.origin, at };
  }

  private or(): Condition {
    let left = this.and();
    while (this.peek().text === "||") {
      this.next();
      left = { kind: "or", left, right: this.and() };
    }
    return left;
  }

  private and(): Condition {
    let left = this.not();
    while (this.peek().text === "&&") {
      this.next();
      left = { kind: "and", left, right: this.not() };
    }
    return left;
  }

  private not(): Condition {
    if (this.peek().text === "!" && this.peek().kind === "punct") {
      this.next();
      return { kind: "not", operand: this.not() };
    }
    return this.comparison();
  }

  private comparison(): Condition {
    if (this.peek().text === "(" && this.peek().kind === "punct") {
      this.next();
      const inner = this.or();
      this.expectPunct(")", "'&&', '||' or ')'");
      return inner;
    }
    const leftTok = this.peek();
    const left = this.value();
    const opTok = this.peek();
    if (opTok.kind !== "punct" || (opTok.text !== "==" && opTok.text !== "!=")) {
      this.fail(opTok, `'==' or '!=' after ${describe(leftTok)}`);
    }
    this.next();
    const rightTok = this.peek();
    const right = this.value();
    if (left.kind === "state" && right.kind === "state") {
      this.failDetail(leftTok, "a comparison needs a resource or cluster() on one side (found two states)");
    }
    const wildcards = [left, right].filter((v) => v.kind === "resource" && v.id.kind !== "name");
    if (wildcards.length === 2) {
      this.failDetail(rightTok, "only one side of a comparison may use a wildcard resource (* or ?)");
    }
    return { kind: "compare", op: opTok.text, left, right };
  }

  private value(): ValueExpr {
    const t = this.peek();
    if (t.kind !== "word") return this.fail(t, VALUE_EXPECTED);
    const at = this.toPos(t.offset);
    if ((RESOURCE_STATES as readonly string[]).includes(t.text)) {
      this.next();
      return { kind: "state", state: t.text as ResourceState, at };
    }
    if (t.text === "cluster" && this.peek(1).text === "(") {
      this.next();
      this.next();
      this.expectPunct(")", "')' (cluster() takes no argument)");
      return { kind: "cluster", at };
    }
    if (!t.text.includes(".")) return this.fail(t, VALUE_EXPECTED);
    this.next();
    return this.resource(t);
  }

  private resource(t: Token): ResourceRef {
    const segments = t.text.split(".");
    let side: "local" | "remote" = "local";
    let skip = 0;
    if (segments[0] === "local" || segments[0] === "remote") {
      side = segments[0];
      skip = segments[0].length + 1;
      segments.shift();
    }
    const at = this.toPos(t.offset);
    const [cls, ...rest] = segments;
    const id = rest.join(".");
    if (cls === "" || rest.length === 0 || id === "") {
      this.failDetail(
        t,
        `invalid resource '${t.text}' (expected [local.|remote.]class.id, e.g. ping.testR2)`,
      );
    }
    const empty = segments.findIndex((s) => s === "");
    if (empty >= 0) {
      this.failDetail(t, `invalid resource '${t.text}' (empty name between two dots)`);
    }
    if (/[*?]/.test(cls)) {
      this.failAt(t.offset + skip, `invalid resource '${t.text}' (the class cannot be a wildcard)`);
    }
    if (/[*?]/.test(id) && id !== "*" && id !== "?") {
      this.failAt(
        t.offset + skip + cls.length + 1,
        `invalid resource '${t.text}' ('*' and '?' must be the whole id, e.g. ${cls}.* or ${cls}.?)`,
      );
    }
    const rid = id === "*" ? { kind: "all" as const } : id === "?" ? { kind: "any" as const } : {
      kind: "name" as const,
      name: id,
    };
    return { kind: "resource", side, class: cls, id: rid, at };
  }

  private action(): RuleAction {
    const t = this.peek();
    if (t.kind !== "word") return this.fail(t, ACTION_EXPECTED);
    if (this.peek(1).text === "(") {
      if (!(ACTION_NAMES as readonly string[]).includes(t.text)) {
        this.failDetail(
          t,
          `unknown action '${t.text}()' (expected stop(), stopstart(), wait(), restart() or swap())`,
        );
      }
      this.next();
      this.next();
      this.expectPunct(")", "')' (actions take no argument)");
      return { kind: "call", name: t.text as ActionName };
    }
    if (t.text.includes(".") && this.peek(1).text === "=") {
      this.next();
      const target = this.resource(t);
      if (target.id.kind !== "name") this.failDetail(t, `cannot assign a wildcard resource '${t.text}'`);
      if (target.side === "remote") this.failDetail(t, `cannot assign a remote resource '${t.text}'`);
      this.next();
      const v = this.peek();
      if (v.kind !== "word" || !(RESOURCE_STATES as readonly string[]).includes(v.text)) {
        this.fail(v, "a state (init, down, up, unknown)");
      }
      this.next();
      return { kind: "assign", target, value: v.text as ResourceState };
    }
    if ((ACTION_NAMES as readonly string[]).includes(t.text)) {
      this.fail(this.peek(1), `'(' after '${t.text}'`);
    }
    if (t.text.includes(".")) {
      this.fail(this.peek(1), `'=' after '${t.text}' (assignment like rfs.uptodate=up)`);
    }
    return this.fail(t, ACTION_EXPECTED);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private expectPunct(p: string, expected = `'${p}'`): void {
    const t = this.peek();
    if (t.kind !== "punct" || t.text !== p) this.fail(t, expected);
    this.next();
  }

  private expectWord(w: string): void {
    const t = this.peek();
    if (t.kind !== "word" || t.text !== w) this.fail(t, `'${w}'`);
    this.next();
  }

  private fail(t: Token, expected: string): never {
    if (t.kind === "error") {
      // The text could not be tokenized here: report that rather than what the grammar expected.
      throw new FailoverRuleError({
        file: this.file,
        at: this.toPos(t.offset),
        rule: this.rule,
        expected: t.error.expected,
        found: t.error.found,
        detail: t.error.expected === undefined ? t.error.found : undefined,
      });
    }
    throw new FailoverRuleError({
      file: this.file,
      at: this.toPos(t.offset),
      rule: this.rule,
      expected,
      found: describe(t),
    });
  }

  private failDetail(t: Token, detail: string): never {
    this.failAt(t.offset, detail);
  }

  private failAt(offset: number, detail: string): never {
    throw new FailoverRuleError({ file: this.file, at: this.toPos(offset), rule: this.rule, detail });
  }
}
