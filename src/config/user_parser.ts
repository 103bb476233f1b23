// <user> (scripts, spec §4.8) and <vhost> (virtual host names, spec §4.9).

import type { ElementReader } from "./element_reader.ts";
import type { UserConfig, VirtualHostName } from "./module_types.ts";

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readUser(user: ElementReader): UserConfig {
  user.expectShape({
    attributes: ["nicestoptimeout", "forcestoptimeout", "logging", "userlogsize"],
    children: ["var"],
  });
  const varEls = user.children("var");
  const vars = varEls.map((el, i) => {
    const v = user.reader(el).expectShape({ attributes: ["name", "value"] });
    const name = v.requiredString("name");
    if (!VAR_NAME.test(name)) {
      throw v.invalidAttribute("name", "an environment variable name (letters, digits, '_')");
    }
    if (varEls.slice(0, i).some((o) => o.attributes.find((a) => a.name === "name")?.value === name)) {
      throw v.invalidAttribute("name", `a variable not already defined ('${name}' is)`);
    }
    if (!v.has("value")) throw v.error("missing mandatory attribute 'value'");
    return { name, value: v.string("value", "") };
  });
  return {
    niceStopTimeoutMs: user.timeMs("nicestoptimeout", "s", 300_000),
    forceStopTimeoutMs: user.timeMs("forcestoptimeout", "s", 300_000),
    logging: user.oneOf("logging", ["userlog", "none"], "userlog"),
    userLogSizeKb: user.integer("userlogsize", 2048, 0),
    vars,
  };
}

export function readVhost(vhost: ElementReader): VirtualHostName[] {
  vhost.expectShape({ attributes: [], children: ["virtualhostname"] });
  return vhost.atLeastOne("virtualhostname").map((el) => {
    const v = vhost.reader(el).expectShape({ attributes: ["name", "envfile", "when"] });
    return {
      name: v.requiredString("name"),
      envFile: v.requiredString("envfile"),
      when: v.oneOf("when", ["prim", "second", "both"], "prim"),
    };
  });
}
