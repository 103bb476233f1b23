import assert from "node:assert/strict";
import { parseXmlTree } from "../../src/config/xml_tree.ts";

Deno.test("xml tree: elements and attributes carry their line and column, across lines", () => {
  const root = parseXmlTree(`<a>\n  <b x="1"\n     y='2'/>\n</a>`, "f.xml");
  const b = root.children[0];
  assert.deepEqual([b.line, b.column], [2, 3]);
  assert.deepEqual(b.attributes.map((a) => [a.name, a.value, a.line, a.column]), [["x", "1", 2, 6], [
    "y",
    "2",
    3,
    6,
  ]]);
});

Deno.test("xml tree: a BOM, the XML declaration, DOCTYPE and comments are ignored, positions unchanged", () => {
  const root = parseXmlTree(
    `\uFEFF<?xml version="1.0"?>\n<!DOCTYPE safe>\n<!-- c -->\n<safe><x/></safe>`,
    "f.xml",
  );
  assert.equal(root.name, "safe");
  assert.deepEqual([root.line, root.column], [4, 1]);
  assert.deepEqual(root.children.map((c) => [c.name, c.line, c.column]), [["x", 4, 7]]);
});

Deno.test("xml tree: entities in attribute values are decoded", () => {
  const root = parseXmlTree(`<a v="x &amp;&amp; y &lt; z"/>`, "f.xml");
  assert.equal(root.attributes[0].value, "x && y < z");
});

Deno.test("xml tree: CDATA sections keep their text and the position of its first character", () => {
  const root = parseXmlTree(`<f>\n  <![CDATA[r1: if (a.b == down) then wait();]]>\n</f>`, "f.xml");
  assert.deepEqual(root.cdata, [{ text: "r1: if (a.b == down) then wait();", line: 2, column: 12 }]);
});

Deno.test("xml tree: syntax errors report the validator's position and the file", () => {
  assert.throws(
    () => parseXmlTree(`<a>\n<b x="1" x="2"/></a>`, "cluster.xml"),
    /Error: cluster\.xml:2:\d+: XML syntax error: Attribute 'x' is repeated/,
  );
  assert.throws(() => parseXmlTree(`<a/><b/>`, "f.xml"), /XML syntax error|exactly one root element/);
  assert.throws(() => parseXmlTree(``, "f.xml"), /Error: f\.xml:1:1:/);
});
