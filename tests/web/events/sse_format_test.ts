import assert from "node:assert/strict";
import { sseComment, sseEvent, SseParser } from "../../../src/web/events/sse_format.ts";

Deno.test("sse format: a named event with an id ends with a blank line", () => {
  assert.equal(sseEvent("modules", '{"a":1}', 7), 'event: modules\nid: 7\ndata: {"a":1}\n\n');
});

Deno.test("sse format: multi-line data becomes several data lines and parses back to the same text", () => {
  const text = sseEvent("x", "one\ntwo\r\nthree");
  assert.equal(text, "event: x\ndata: one\ndata: two\ndata: three\n\n");
  assert.deepEqual(new SseParser().push(text), [{ event: "x", data: "one\ntwo\nthree" }]);
});

Deno.test("sse format: a comment cannot smuggle a field with a newline", () => {
  assert.equal(sseComment("a\ndata: evil"), ": a data: evil\n\n");
  assert.deepEqual(new SseParser().push(sseComment("a\ndata: evil")), []);
});

Deno.test("sse parser: events split across chunks come out once complete; comments are skipped", () => {
  const p = new SseParser();
  const whole = ": hello\n\nretry: 3000\n\n" + sseEvent("modules", "[1]", 1) + sseEvent("modules", "[2]", 2);
  const got = [];
  for (let i = 0; i < whole.length; i += 5) got.push(...p.push(whole.slice(i, i + 5)));
  assert.deepEqual(got, [
    { event: "modules", data: "[1]", id: "1" },
    { event: "modules", data: "[2]", id: "2" },
  ]);
});
