import assert from "node:assert/strict";
import { renderPrometheus } from "../../src/web/prometheus.ts";
import { resourceNumber } from "../../src/daemon/metrics.ts";

Deno.test("prometheus text: HELP and TYPE lines, escaped labels, special values", () => {
  const text = renderPrometheus([
    {
      name: "x_total",
      help: "a counter",
      type: "counter",
      samples: [{ labels: { a: 'q"u\\o\nte' }, value: 3 }, { value: Infinity }, { value: NaN }],
    },
  ]);
  assert.equal(
    text,
    '# HELP x_total a counter\n# TYPE x_total counter\nx_total{a="q\\"u\\\\o\\nte"} 3\nx_total +Inf\nx_total NaN\n',
  );
  assert.throws(
    () => renderPrometheus([{ name: "bad name", help: "", type: "gauge", samples: [] }]),
    /invalid metric/,
  );
});

Deno.test("resource values become numbers; other text is left out", () => {
  assert.deepEqual(["up", "down", "init", "unknown", "42", "3.5", "", "PRIM Ready"].map(resourceNumber), [
    1,
    0,
    -1,
    -2,
    42,
    3.5,
    null,
    null,
  ]);
});
