// <heart> (mirror only, spec §4.4).

import type { ElementReader } from "./element_reader.ts";
import type { Heartbeat, HeartConfig } from "./module_types.ts";
import { checkServiceAddress } from "./network_address.ts";

const PULSE_MS = 700;
const TIMEOUT_MS = 30000;

export function readHeart(heart: ElementReader): HeartConfig {
  heart.expectShape({
    attributes: ["port", "pulse", "timeout", "permanent_arp"],
    children: ["heartbeat", "server"],
  });
  const pulseMs = heart.timeMs("pulse", "ms", PULSE_MS);
  const timeoutMs = heart.timeMs("timeout", "ms", TIMEOUT_MS);
  const legacyServers = heart.children("server").map((s) => readServer(heart.reader(s)));
  const heartbeatEls = heart.children("heartbeat");
  if (legacyServers.length > 0 && heartbeatEls.length > 0) {
    throw heart.elementError(
      heart.children("server")[0],
      "the legacy <server> syntax (before 7.2) must not be mixed with <heartbeat> elements",
    );
  }
  if (legacyServers.length === 0 && heartbeatEls.length === 0) {
    throw heart.error('expected at least one <heartbeat name="<cluster lan>"/> element');
  }
  const heartbeats = heartbeatEls.map((el) => readHeartbeat(heart.reader(el), pulseMs, timeoutMs));
  const legacy = heartbeats.filter((h) => h.legacyServers.length > 0);
  if (legacy.length > 0 && legacy.length < heartbeats.length) {
    const modern = heartbeatEls[heartbeats.findIndex((h) => h.legacyServers.length === 0)];
    throw heart.elementError(
      modern,
      "heartbeats with <server> children (before 7.2) must not be mixed with the new syntax",
    );
  }
  const flows = heartbeatEls.filter((_el, i) => heartbeats[i].ident === "flow");
  if (flows.length > 1) throw heart.elementError(flows[1], 'only one heartbeat may have ident="flow"');
  heartbeats.forEach((h, i) => {
    if (heartbeats.slice(0, i).some((o) => o.resource === h.resource)) {
      throw heart.elementError(
        heartbeatEls[i],
        `duplicate heartbeat resource '${h.resource}' (set distinct ident)`,
      );
    }
  });
  return {
    port: heart.port("port"),
    pulseMs,
    timeoutMs,
    permanentArp: heart.onOff("permanent_arp", true),
    heartbeats,
    legacyServers,
  };
}

function readHeartbeat(hb: ElementReader, pulseDefault: number, timeoutDefault: number): Heartbeat {
  hb.expectShape({ attributes: ["name", "ident", "pulse", "timeout"], children: ["server"] });
  const legacyServers = hb.children("server").map((s) => readServer(hb.reader(s)));
  // name is mandatory since 7.2; the pre-7.2 form names peers with <server> instead of a lan.
  const name = legacyServers.length > 0 ? hb.optionalString("name") : hb.requiredString("name");
  const ident = hb.optionalString("ident");
  if (ident !== undefined && ident.trim() === "") throw hb.invalidAttribute("ident", "a non-empty label");
  return {
    name,
    ident,
    resource: `heartbeat.${ident ?? name ?? String(hb.el.line)}`,
    pulseMs: hb.timeMs("pulse", "ms", pulseDefault),
    timeoutMs: hb.timeMs("timeout", "ms", timeoutDefault),
    legacyServers,
    at: { line: hb.el.line, column: hb.el.column },
  };
}

function readServer(server: ElementReader): string {
  server.expectShape({ attributes: ["addr"] });
  const addr = server.requiredString("addr");
  const check = checkServiceAddress(addr);
  if (!check.ok) throw server.invalidAttribute("addr", check.expected);
  return addr;
}
