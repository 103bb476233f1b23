// <farm> (farm only, spec §4.5).

import type { ElementReader } from "./element_reader.ts";
import type { FarmConfig } from "./module_types.ts";
import { checkServiceAddress } from "./network_address.ts";

export function readFarm(farm: ElementReader): FarmConfig {
  farm.expectShape({
    attributes: ["port", "pulse", "mlost_count", "slost_count"],
    children: ["lan", "node"],
  });
  const lans = farm.children("lan").map((el) => {
    const lan = farm.reader(el).expectShape({ attributes: ["name"] });
    return { name: lan.requiredString("name"), at: { line: el.line, column: el.column } };
  });
  const legacyNodes = farm.children("node").map((el) => {
    const node = farm.reader(el).expectShape({ attributes: ["name", "addr"] });
    const addr = node.requiredString("addr");
    const check = checkServiceAddress(addr);
    if (!check.ok) throw node.invalidAttribute("addr", check.expected);
    return { name: node.requiredString("name"), addr };
  });
  if (lans.length > 0 && legacyNodes.length > 0) {
    throw farm.elementError(
      farm.children("node")[0],
      "the legacy <node> syntax must not be mixed with <lan> elements",
    );
  }
  if (lans.length === 0 && legacyNodes.length === 0) {
    throw farm.error('expected at least one <lan name="<cluster lan>"/> element');
  }
  lans.forEach((lan, i) => {
    if (lans.slice(0, i).some((o) => o.name === lan.name)) {
      throw farm.elementError(farm.children("lan")[i], `duplicate farm lan '${lan.name}'`);
    }
  });
  return {
    port: farm.port("port"),
    pulseMs: farm.timeMs("pulse", "ms", 100),
    mlostCount: farm.integer("mlost_count", 20, 1),
    slostCount: farm.integer("slost_count", 10, 1),
    lans,
    legacyNodes,
  };
}
