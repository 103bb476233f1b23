// Reads XML text into a small element tree that keeps the source position of every element,
// attribute and CDATA section, so that semantic errors can point at the exact line and column.
// fast-xml-parser checks the syntax (XMLValidator gives line/col) and gives each element's start
// offset (captureMetaData); attribute and CDATA offsets are found by scanning the raw text from there.

import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ConfigError } from "./config_error.ts";
import { lineStarts, positionAt, type SourcePosition } from "./source_position.ts";

export type XmlAttribute = SourcePosition & { readonly name: string; readonly value: string };
export type XmlCdata = SourcePosition & { readonly text: string };

export type XmlElement = SourcePosition & {
  readonly name: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  readonly cdata: readonly XmlCdata[];
  /** Concatenated character data outside CDATA sections (entities decoded, not trimmed). */
  readonly text: string;
};

type OrderedNode = Record<string, unknown>;
type Meta = { startIndex: number; endIndex?: number };

const META = XMLParser.getMetaDataSymbol() as unknown as string;

export function parseXmlTree(text: string, file: string): XmlElement {
  // A BOM is invisible in editors, so columns are counted without it (and <?xml?> must stay first).
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const starts = lineStarts(source);
  const checked = XMLValidator.validate(source, { allowBooleanAttributes: false });
  if (checked !== true) {
    throw new ConfigError({
      file,
      // The validator leaves line/col undefined for some errors (e.g. an empty document).
      line: checked.err.line ?? 1,
      column: checked.err.col ?? 1,
      element: "",
      detail: `XML syntax error: ${checked.err.msg}`,
    });
  }
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: "",
    captureMetaData: true,
    cdataPropName: "#cdata",
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
  });
  const nodes = parser.parse(source) as OrderedNode[];
  const roots = nodes.filter((n) => elementName(n) !== undefined);
  if (roots.length !== 1) {
    throw new ConfigError({
      file,
      line: 1,
      column: 1,
      element: "",
      detail: "expected exactly one root element",
    });
  }
  return buildElement(roots[0], source, starts);
}

function elementName(node: OrderedNode): string | undefined {
  return Object.keys(node).find((k) =>
    k !== ":@" && !k.startsWith("#") && !k.startsWith("?") && !k.startsWith("!")
  );
}

function buildElement(node: OrderedNode, source: string, starts: readonly number[]): XmlElement {
  const name = elementName(node)!;
  const meta = node[META] as Meta | undefined;
  const start = meta?.startIndex ?? 0;
  const end = meta?.endIndex ?? source.length;
  const rawAttributes = (node[":@"] ?? {}) as Record<string, string>;
  const attributeOffsets = scanAttributeOffsets(source, start);
  const attributes: XmlAttribute[] = Object.entries(rawAttributes).map(([attrName, value]) => ({
    name: attrName,
    value: String(value),
    ...positionAt(starts, attributeOffsets.get(attrName) ?? start),
  }));
  const children: XmlElement[] = [];
  const cdataTexts: string[] = [];
  let text = "";
  for (const child of (node[name] ?? []) as OrderedNode[]) {
    if ("#cdata" in child) {
      cdataTexts.push(
        ((child["#cdata"] as OrderedNode[]) ?? []).map((t) => String(t["#text"] ?? "")).join(""),
      );
    } else if ("#text" in child) {
      text += String(child["#text"]);
    } else if (elementName(child) !== undefined) {
      children.push(buildElement(child, source, starts));
    }
  }
  const cdata = locateCdata(source, start, end, cdataTexts).map((c) => ({
    text: c.text,
    ...positionAt(starts, c.offset),
  }));
  return { name, attributes, children, cdata, text, ...positionAt(starts, start) };
}

// Offsets of each attribute name inside the start tag beginning at `start` ('<').
function scanAttributeOffsets(source: string, start: number): Map<string, number> {
  const offsets = new Map<string, number>();
  const attr = /\s+([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')|\s*(\/?>)/y;
  const nameMatch = /<[^\s/>]+/y;
  nameMatch.lastIndex = start;
  if (!nameMatch.exec(source)) return offsets;
  attr.lastIndex = nameMatch.lastIndex;
  for (let m = attr.exec(source); m !== null && m[3] === undefined; m = attr.exec(source)) {
    offsets.set(m[1], m.index + m[0].indexOf(m[1]));
  }
  return offsets;
}

// Offsets of the content of each CDATA section (just after "<![CDATA["), in document order.
function locateCdata(source: string, start: number, end: number, texts: readonly string[]) {
  const found: { text: string; offset: number }[] = [];
  let from = start;
  for (const text of texts) {
    const at = source.indexOf("<![CDATA[", from);
    const offset = at < 0 || at > end ? start : at + "<![CDATA[".length;
    found.push({ text, offset });
    from = offset + text.length;
  }
  return found;
}
