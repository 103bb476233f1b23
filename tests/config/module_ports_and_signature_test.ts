import assert from "node:assert/strict";
import { configSignature, farmPort, heartPort, normalizeConfigText, rfsPort } from "../../src/config/mod.ts";

Deno.test("ports: module id 1 uses the documented base ports", () => {
  assert.deepEqual([heartPort(1), rfsPort(1), farmPort(1)], [8888, 5600, 4803]);
});

Deno.test("ports: module id 2 shifts heart by 1, rfs by 4 and farm by 3 (farm id 2 = UDP 4806)", () => {
  assert.deepEqual([heartPort(2), rfsPort(2), farmPort(2)], [8889, 5604, 4806]);
});

Deno.test("ports: <heart port> and <farm port> override the derived port", () => {
  assert.equal(heartPort(3, 9999), 9999);
  assert.equal(farmPort(3, 7000), 7000);
});

Deno.test("ports: a module id below 1 or not an integer is refused", () => {
  assert.throws(() => heartPort(0), RangeError);
  assert.throws(() => rfsPort(1.5), RangeError);
});

Deno.test("signature: hex SHA-256 of the normalized text", async () => {
  const sig = await configSignature("abc");
  assert.equal(sig, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

Deno.test("signature: CRLF, BOM, trailing spaces and surrounding blank lines do not change it", async () => {
  const a = await configSignature('<safe>\n  <service mode="light"/>\n</safe>\n');
  const b = await configSignature('\uFEFF\r\n<safe>  \r\n  <service mode="light"/>\t\r\n</safe>\r\n\r\n');
  assert.equal(a, b);
  assert.equal(normalizeConfigText("x \r\ny\r"), "x\ny");
});

Deno.test("signature: any meaningful change changes it", async () => {
  const a = await configSignature(`<service mode="light"/>`);
  const b = await configSignature(`<service mode="farm"/>`);
  assert.notEqual(a, b);
});
