import assert from "node:assert/strict";
import { parseUserConfig } from "../../src/config/mod.ts";

const doc = (macros: string, userVars: string, failover = "") =>
  `<safe>${macros}<service mode="light"><user>${userVars}</user>${failover}</service></safe>`;

Deno.test("macros: %NAME% is replaced in attribute values", () => {
  const cfg = parseUserConfig(doc(`<macro name="A" value="x"/>`, `<var name="V" value="pre-%A%-post"/>`));
  assert.equal(cfg.user?.vars[0].value, "pre-x-post");
});

Deno.test("macros: environment variables expand, and a macro wins over an env var of the same name", () => {
  const env = { HOME: "/root", A: "from-env" };
  const cfg = parseUserConfig(
    doc(`<macro name="A" value="from-macro"/>`, `<var name="V" value="%HOME%/%A%"/>`),
    "userconfig.xml",
    env,
  );
  assert.equal(cfg.user?.vars[0].value, "/root/from-macro");
});

Deno.test("macros: a macro value may use env vars and earlier macros", () => {
  const cfg = parseUserConfig(
    doc(
      `<macro name="BASE" value="%ROOT%/app"/><macro name="DATA" value="%BASE%/data"/>`,
      `<var name="V" value="%DATA%"/>`,
    ),
    "userconfig.xml",
    { ROOT: "/srv" },
  );
  assert.equal(cfg.user?.vars[0].value, "/srv/app/data");
  assert.deepEqual(cfg.macros, [{ name: "BASE", value: "/srv/app" }, {
    name: "DATA",
    value: "/srv/app/data",
  }]);
});

Deno.test("macros: an unknown %X% is left as is and reported in warnings", () => {
  const cfg = parseUserConfig(doc("", `<var name="V" value="%SAFEBIN%\\exitcode 0"/>`));
  assert.equal(cfg.user?.vars[0].value, "%SAFEBIN%\\exitcode 0");
  assert.equal(cfg.warnings.length, 1);
  assert.match(cfg.warnings[0], /%SAFEBIN% is neither a macro nor an environment variable/);
});

Deno.test("macros: a lone percent sign or a non-identifier between percents is not a reference", () => {
  const cfg = parseUserConfig(doc("", `<var name="V" value="100% sure %not a ref%"/>`));
  assert.equal(cfg.user?.vars[0].value, "100% sure %not a ref%");
  assert.deepEqual(cfg.warnings, []);
});

Deno.test("macros: references in failover rules are expanded, positions stay those of the file", () => {
  const cfg = parseUserConfig(
    doc(
      `<macro name="R" value="custom.app"/>`,
      "",
      `\n<failover><![CDATA[x: if (%R% == down) then restart();]]></failover>`,
    ),
  );
  const [section] = cfg.failoverRules!.sections;
  assert.equal(section.text, "x: if (custom.app == down) then restart();");
  assert.equal(section.line, 2);
  assert.equal(section.column, 20);
});

Deno.test("macros: expansion is not recursive into macro values defined later", () => {
  const cfg = parseUserConfig(
    doc(`<macro name="A" value="%B%"/><macro name="B" value="b"/>`, `<var name="V" value="%A%"/>`),
  );
  assert.equal(cfg.user?.vars[0].value, "%B%");
});
