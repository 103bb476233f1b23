import assert from "node:assert/strict";
import { parseUserConfig } from "../../../src/config/mod.ts";
import { buildRuleSet, FailoverRuleError, formatRule } from "../../../src/core/failover_rules/mod.ts";
import { ALL_USERCONFIG_EXAMPLES, MIRROR_FULL } from "../../config/spec_examples.ts";

const CHECKS = `<check>
    <tcp ident="R1test" when="prim" action="restart"><to addr="127.0.0.1" port="80"/></tcp>
    <tcp ident="quiet" when="prim" action="noaction"><to addr="127.0.0.1" port="81"/></tcp>
    <ping ident="testR2"><to addr="192.168.1.1"/></ping>
    <custom ident="AppChecker" when="prim" exec="checker.sh" action="stopstart"/>
    <custom ident="checkfile" when="prim" exec="checkfile.sh"/>
    <custom ident="guard" when="both" exec="guard.sh" action="stop"/>
  </check>`;

function mirror(inner: string, rfsAttrs = ""): string {
  return `<safe><service mode="mirror"><heart><heartbeat name="default"/></heart>
  <rfs${rfsAttrs}><replicated dir="/var/data"/></rfs>
  ${inner}
</service></safe>`;
}

const farm = (inner: string) =>
  `<safe><service mode="farm"><farm><lan name="default"/></farm>${inner}</service></safe>`;

const texts = (xml: string) => buildRuleSet(parseUserConfig(xml)).rules.map(formatRule);

Deno.test("rule set: a mirror gets the static rules, then one generated rule per acting checker", () => {
  assert.deepEqual(texts(mirror(CHECKS)), [
    "module_failure: if (module.? == down) then wait();",
    "interface_failure: if (intf.? == down) then wait();",
    "ip_failure: if (ip.? == down) then stopstart();",
    "splitbrain_failure: if (splitbrain.uptodate == down) then wait();",
    "t_R1test: if (tcp.R1test == down) then restart();",
    "p_testR2: if (ping.testR2 == down) then wait();",
    "c_AppChecker: if (custom.AppChecker == down) then stopstart();",
    "c_guard: if (custom.guard == down) then stop();",
  ]);
});

Deno.test("rule set: a farm has no splitbrain or rfs rule", () => {
  assert.deepEqual(texts(farm("")), [
    "module_failure: if (module.? == down) then wait();",
    "interface_failure: if (intf.? == down) then wait();",
    "ip_failure: if (ip.? == down) then stopstart();",
  ]);
});

Deno.test("rule set: rfs_forceuptodate exists only when syncdelta is more than 1 minute", () => {
  const has = (attrs: string) => texts(mirror("", attrs)).some((t) => t.startsWith("rfs_forceuptodate:"));
  assert.equal(has(""), false);
  assert.equal(has(` syncdelta="1"`), false);
  assert.equal(has(` syncdelta="2"`), true);
  assert.equal(
    texts(mirror("", ` syncdelta="60"`)).at(-1),
    "rfs_forceuptodate: if (heartbeat.* == down && cluster() == down && rfs.synced == up && rfs.uptodate == down) then rfs.uptodate=up;",
  );
});

Deno.test("rule set: user rules come after the default ones, with period and handle_time", () => {
  const set = buildRuleSet(parseUserConfig(farm(`${CHECKS}
  <failover period="2s" handle_time="6s"><![CDATA[
checkfile_failure: if( custom.checkfile == down ) then restart();
]]></failover>`)));
  assert.equal(set.periodMs, 2000);
  assert.equal(set.handleTimeMs, 6000);
  const last = set.rules.at(-1)!;
  assert.equal(last.name, "checkfile_failure");
  assert.equal(last.origin, "user");
  assert.deepEqual(last.at, { line: 10, column: 1 });
  assert.deepEqual(set.rules.map((r) => r.origin).slice(0, 3), ["static", "static", "static"]);
});

Deno.test("rule set: extends=no keeps only the user rules", () => {
  assert.deepEqual(
    texts(
      mirror(
        `${CHECKS}<failover extends="no"><![CDATA[only: if (ping.testR2 == down) then stop();]]></failover>`,
      ),
    ),
    ["only: if (ping.testR2 == down) then stop();"],
  );
});

Deno.test("rule set: without <failover> period and handle_time default to 5000 and 15000 ms", () => {
  const set = buildRuleSet(parseUserConfig(farm("")));
  assert.equal(set.periodMs, 5000);
  assert.equal(set.handleTimeMs, 15000);
});

Deno.test("rule set: a user rule named like a default rule is a precise error", () => {
  const xml = farm(`${CHECKS}<failover><![CDATA[
p_testR2: if (ping.testR2 == down) then stop();]]></failover>`);
  assert.throws(
    () => buildRuleSet(parseUserConfig(xml), { file: "AM/conf/userconfig.xml" }),
    (e: unknown) => {
      assert.ok(e instanceof FailoverRuleError);
      assert.equal(
        e.message,
        "Error: AM/conf/userconfig.xml:9:1: failover rule 'p_testR2': rule name already used by the generated " +
          "rule 'p_testR2' (choose another name, or use <failover extends=\"no\"> to replace the default rules)",
      );
      return true;
    },
  );
  assert.throws(
    () =>
      buildRuleSet(
        parseUserConfig(farm(`<failover><![CDATA[ip_failure: if (ip.* == down) then stop();]]></failover>`)),
      ),
    { message: /failover rule 'ip_failure': rule name already used by the static rule 'ip_failure'/ },
  );
});

Deno.test("rule set: with extends=no a user rule may reuse a default rule's name", () => {
  const xml = farm(
    `<failover extends="no"><![CDATA[ip_failure: if (ip.* == down) then stop();]]></failover>`,
  );
  assert.deepEqual(texts(xml), ["ip_failure: if (ip.* == down) then stop();"]);
});

Deno.test("rule set: a config with a Lua section is refused at the Lua section", () => {
  assert.throws(() => buildRuleSet(parseUserConfig(MIRROR_FULL)), (e: unknown) => {
    assert.ok(e instanceof FailoverRuleError);
    assert.equal(e.line, 53);
    assert.match(
      e.message,
      /53:14: failover rules: rules written in Lua .* instead of 'Rules.disable\("ip_failure"\)'/,
    );
    return true;
  });
});

Deno.test("rule set: every userconfig example of the spec without Lua builds a rule set", () => {
  for (const [name, xml] of Object.entries(ALL_USERCONFIG_EXAMPLES)) {
    if (xml === MIRROR_FULL) continue;
    const set = buildRuleSet(parseUserConfig(xml));
    assert.ok(set.rules.length >= 3, name);
  }
});
