// Splits rule text into tokens. A word is a run of letters, digits and `_ - . * ?`, so resource
// names that contain dots (`intf.192.168.0.0`, `module.other_10.0.0.5`, `proc.appli.exe`) are one
// token; the parser splits them into side, class and id. Comments are `# ...` and `// ...` to the
// end of the line and `/* ... */`.

import type { RulePosition } from "./ast.ts";

export type Token =
  | { readonly kind: "word"; readonly text: string; readonly offset: number }
  | { readonly kind: "punct"; readonly text: Punct; readonly offset: number }
  | { readonly kind: "eof"; readonly text: ""; readonly offset: number }
  /** Ends the stream where the text cannot be tokenized, so the parser reports it inside its rule. */
  | { readonly kind: "error"; readonly text: ""; readonly offset: number; readonly error: LexError };

export type Punct = "(" | ")" | ":" | ";" | "!" | "!=" | "==" | "=" | "&&" | "||";

/** A lexical error; the parser turns it into a FailoverRuleError. */
export type LexError = { readonly expected?: string; readonly found: string };

const WORD_CHAR = /[\p{L}\p{N}_\-.*?]/u;
const TWO_CHAR: readonly Punct[] = ["!=", "==", "&&", "||"];
const ONE_CHAR: readonly Punct[] = ["(", ")", ":", ";", "!", "="];

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#" || text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) {
        return error(tokens, i, { expected: "'*/' closing this comment", found: "end of rules" });
      }
      i = end + 2;
    } else if (TWO_CHAR.includes(text.slice(i, i + 2) as Punct)) {
      tokens.push({ kind: "punct", text: text.slice(i, i + 2) as Punct, offset: i });
      i += 2;
    } else if (c === "&" || c === "|") {
      return error(tokens, i, { expected: `'${c}${c}'`, found: `'${c}'` });
    } else if (ONE_CHAR.includes(c as Punct)) {
      tokens.push({ kind: "punct", text: c as Punct, offset: i });
      i++;
    } else if (WORD_CHAR.test(c)) {
      const start = i;
      while (i < text.length && WORD_CHAR.test(text[i])) i++;
      tokens.push({ kind: "word", text: text.slice(start, i), offset: start });
    } else {
      const cp = String.fromCodePoint(text.codePointAt(i)!);
      return error(tokens, i, { found: `unexpected character '${cp}'` });
    }
  }
  tokens.push({ kind: "eof", text: "", offset: text.length });
  return tokens;
}

function error(tokens: Token[], offset: number, e: LexError): Token[] {
  tokens.push({ kind: "error", text: "", offset, error: e });
  return tokens;
}

/** Maps offsets of the rule text to positions in the file, given where the text starts. */
export function positionMapper(text: string, start: RulePosition): (offset: number) => RulePosition {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  return (offset) => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= offset) line++;
    const col = offset - lineStarts[line];
    // Only the first line of the text is shifted by the CDATA's column.
    return line === 0
      ? { line: start.line, column: start.column + col }
      : { line: start.line + line, column: col + 1 };
  };
}
