// One row per schema rule of userconfig.xml: the snippet, the error substring, and where it points.

import assert from "node:assert/strict";
import { ConfigError, parseUserConfig } from "../../src/config/mod.ts";

const HEART = `<heart><heartbeat name="default"/></heart>`;
// Inner content always starts on line 3, column 1.
const mirror = (inner: string, attrs = "") =>
  `<safe><service mode="mirror"${attrs}>\n${HEART}\n${inner}\n</service></safe>`;
const farm = (inner: string, attrs = "") =>
  `<safe><service mode="farm"${attrs}>\n<farm><lan name="default"/></farm>\n${inner}\n</service></safe>`;
const light = (inner: string, attrs = "") =>
  `<safe><service mode="light"${attrs}>\n<user/>\n${inner}\n</service></safe>`;
const FARM_VIP = (itf: string, lb: string) =>
  farm(`<vip><interface_list><interface>${itf}</interface></interface_list>${lb}</vip>`);
const VD = `<virtual_interface type="vmac_directed"><virtual_addr addr="10.0.0.9"/></virtual_interface>`;

// Position either given as line/column or as `at`, a substring of xml that starts where the error must point.
type Row =
  & { rule: string; xml: string; error: string; env?: Record<string, string> }
  & ({ line: number; column: number } | { at: string });

function expectedPosition(row: Row): { line: number; column: number } {
  if (!("at" in row)) return row;
  const offset = row.xml.indexOf(row.at);
  assert.ok(offset >= 0, `marker not found: ${row.at}`);
  const before = row.xml.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

const rows: Row[] = [
  // XML syntax and document structure
  {
    rule: "XML syntax errors give the validator's line and column",
    xml: `<safe>\n<service mode="light"></servic></safe>`,
    error: "XML syntax error",
    line: 2,
    column: 23,
  },
  {
    rule: "the root must be <safe>",
    xml: `<module/>`,
    error: "root element must be <safe>",
    line: 1,
    column: 1,
  },
  {
    rule: "<service> is mandatory",
    xml: `<safe></safe>`,
    error: "missing mandatory element <service>",
    line: 1,
    column: 1,
  },
  {
    rule: "only one <service>",
    xml: `<safe><service mode="light"/>\n<service mode="light"/></safe>`,
    error: "only one <service> is allowed",
    line: 2,
    column: 1,
  },
  {
    rule: "macros come before <service>",
    xml: `<safe><service mode="light"/>\n<macro name="A" value="1"/></safe>`,
    error: "<macro> elements must come before <service>",
    line: 2,
    column: 1,
  },
  {
    rule: "unknown elements under <safe> are listed",
    xml: `<safe><servic/></safe>`,
    error: "unknown element inside <safe> (allowed: <macro>, <service>)",
    line: 1,
    column: 7,
  },
  {
    rule: "text is refused where only elements belong",
    xml: `<safe>hello<service mode="light"/></safe>`,
    error: "unexpected text 'hello'",
    line: 1,
    column: 1,
  },
  // macros
  {
    rule: "a macro needs a name",
    xml: `<safe><macro value="1"/><service mode="light"/></safe>`,
    error: "missing mandatory attribute 'name'",
    line: 1,
    column: 7,
  },
  {
    rule: "a macro needs a value",
    xml: `<safe><macro name="A"/><service mode="light"/></safe>`,
    error: "missing mandatory attribute 'value'",
    line: 1,
    column: 7,
  },
  {
    rule: "a macro name is an identifier",
    xml: `<safe><macro name="A-B" value="1"/><service mode="light"/></safe>`,
    error: "invalid value 'A-B'",
    line: 1,
    column: 14,
  },
  {
    rule: "a macro is defined once",
    xml: `<safe><macro name="A" value="1"/>\n<macro name="A" value="2"/><service mode="light"/></safe>`,
    error: "macro 'A' is already defined",
    line: 2,
    column: 8,
  },
  {
    rule: "a macro has only name and value",
    xml: `<safe><macro name="A" value="1" x="2"/><service mode="light"/></safe>`,
    error: "unknown attribute (allowed: name, value)",
    line: 1,
    column: 33,
  },
  {
    rule: "expanded macro values are validated where they are used",
    xml:
      `<safe><macro name="T" value="30x"/><service mode="light">\n<user nicestoptimeout="%T%"/></service></safe>`,
    error: "<user> attribute 'nicestoptimeout': invalid value '30x'",
    line: 2,
    column: 7,
  },
  {
    rule: "expanded environment variables are validated too",
    xml: `<safe><service mode="light">\n<user userlogsize="%SIZE%"/></service></safe>`,
    env: { SIZE: "big" },
    error: "invalid value 'big'",
    line: 2,
    column: 7,
  },
  // <service>
  {
    rule: "mode is mandatory",
    xml: `<safe><service/></safe>`,
    error: "missing mandatory attribute 'mode' (expected mirror or farm or light)",
    line: 1,
    column: 7,
  },
  {
    rule: "mode is mirror, farm or light",
    xml: `<safe><service mode="cluster"/></safe>`,
    error: "attribute 'mode': invalid value 'cluster' (expected mirror or farm or light)",
    line: 1,
    column: 16,
  },
  {
    rule: "boot is on/off/auto/ignore",
    xml: light("", ` boot="yes"`),
    error: "attribute 'boot': invalid value 'yes' (expected on or off or auto or ignore)",
    line: 1,
    column: 29,
  },
  {
    rule: "boot_delay refuses a unit finer than seconds that is not a whole second",
    xml: light("", ` boot_delay="500ms"`),
    error: "invalid value '500ms' for the attribute boot_delay (expected time unit: 's')",
    line: 1,
    column: 29,
  },
  {
    rule: "maxloop is a non-negative integer",
    xml: light("", ` maxloop="-1"`),
    error: "attribute 'maxloop': invalid value '-1' (expected an integer >= 0)",
    line: 1,
    column: 29,
  },
  {
    rule: "loop_interval is a time",
    xml: light("", ` loop_interval="1 day"`),
    error: "invalid value '1 day' (expected a time like 30s or 30000ms)",
    line: 1,
    column: 29,
  },
  {
    rule: "automatic_reboot is on/off",
    xml: light("", ` automatic_reboot="true"`),
    error: "invalid value 'true' (expected on or off)",
    line: 1,
    column: 29,
  },
  {
    rule: "failover= is mirror only",
    xml: light("", ` failover="off"`),
    error: "<service> attribute 'failover': only allowed in a mirror module (mode is light)",
    line: 1,
    column: 29,
  },
  {
    rule: "defaultprim is mirror only",
    xml: farm("", ` defaultprim="node1"`),
    error: "attribute 'defaultprim': only allowed in a mirror module (mode is farm)",
    line: 1,
    column: 28,
  },
  {
    rule: "defaultprim is alone, lastprim or a node name",
    xml: mirror("", ` defaultprim="node 1!"`),
    error: "expected alone, lastprim or a node name",
    line: 1,
    column: 30,
  },
  {
    rule: "unknown service attributes are listed",
    xml: light("", ` bot="on"`),
    error:
      "unknown attribute (allowed: mode, boot, boot_delay, failover, defaultprim, maxloop, loop_interval, automatic_reboot)",
    line: 1,
    column: 29,
  },
  {
    rule: "a mirror child is refused in a farm module",
    xml: farm(`<rfs><replicated dir="/x"/></rfs>`),
    error: "<rfs>: not allowed in a farm module (only in mirror)",
    line: 3,
    column: 1,
  },
  {
    rule: "<heart> is refused in a light module with the allowed list",
    xml: light(HEART),
    error: "(allowed in light: <user>, <vhost>, <errd>, <check>, <failover>)",
    line: 3,
    column: 1,
  },
  {
    rule: "an unknown service child is refused",
    xml: light(`<users/>`),
    error: "<users>: unknown element (allowed in light:",
    line: 3,
    column: 1,
  },
  {
    rule: "each service child appears once",
    xml: light(`<check/><check/>`),
    error: "only one <check> is allowed inside <service>",
    line: 3,
    column: 9,
  },
  {
    rule: "a mirror module needs <heart>",
    xml: `<safe><service mode="mirror"><rfs><replicated dir="/x"/></rfs></service></safe>`,
    error: "a mirror module needs a <heart> element",
    line: 1,
    column: 7,
  },
  {
    rule: "a farm module needs <farm>",
    xml: `<safe><service mode="farm"><user/></service></safe>`,
    error: "a farm module needs a <farm> element",
    line: 1,
    column: 7,
  },
  // <heart>
  {
    rule: "heartbeat name is mandatory since 7.2",
    xml: `<safe><service mode="mirror">\n<heart><heartbeat ident="x"/></heart></service></safe>`,
    error: "<heartbeat>: missing mandatory attribute 'name'",
    line: 2,
    column: 8,
  },
  {
    rule: "heartbeat timeout is a time (style guide example)",
    xml:
      `<safe><service mode="mirror">\n<heart><heartbeat name="default" timeout="30x"/></heart></service></safe>`,
    error: "<heartbeat> attribute 'timeout': invalid value '30x' (expected a time like 30s or 30000ms)",
    line: 2,
    column: 34,
  },
  {
    rule: "heart pulse in us must be whole milliseconds",
    xml:
      `<safe><service mode="mirror">\n<heart pulse="1500us"><heartbeat name="default"/></heart></service></safe>`,
    error: "invalid value '1500us' for the attribute pulse (expected time unit: 'ms')",
    line: 2,
    column: 8,
  },
  {
    rule: "heart needs at least one heartbeat",
    xml: `<safe><service mode="mirror">\n<heart/></service></safe>`,
    error: "expected at least one <heartbeat",
    line: 2,
    column: 1,
  },
  {
    rule: "legacy <server> must not be mixed with <heartbeat>",
    xml:
      `<safe><service mode="mirror">\n<heart><heartbeat name="default"/><server addr="10.0.0.1"/></heart></service></safe>`,
    error: "legacy <server> syntax (before 7.2) must not be mixed with <heartbeat>",
    line: 2,
    column: 35,
  },
  {
    rule: "only one heartbeat has ident=flow",
    xml:
      `<safe><service mode="mirror">\n<heart><heartbeat name="a" ident="flow"/><heartbeat name="b" ident="flow"/></heart><rfs><replicated dir="/x"/></rfs></service></safe>`,
    error: 'only one heartbeat may have ident="flow"',
    line: 2,
    column: 42,
  },
  {
    rule: "ident=flow without <rfs> is refused (module would stay in WAIT)",
    xml: `<safe><service mode="mirror">\n<heart><heartbeat name="a" ident="flow"/></heart></service></safe>`,
    error: "there is no <rfs> element (the module would stay in WAIT)",
    line: 2,
    column: 8,
  },
  {
    rule: "heartbeat resources are unique",
    xml:
      `<safe><service mode="mirror">\n<heart><heartbeat name="a"/><heartbeat name="a"/></heart></service></safe>`,
    error: "duplicate heartbeat resource 'heartbeat.a'",
    line: 2,
    column: 29,
  },
  {
    rule: "heart port is a port number",
    xml: `<safe><service mode="mirror">\n<heart port="70000"><heartbeat name="a"/></heart></service></safe>`,
    error: "invalid value '70000' (expected an integer from 1 to 65535)",
    line: 2,
    column: 8,
  },
  {
    rule: "permanent_arp is on/off",
    xml:
      `<safe><service mode="mirror">\n<heart permanent_arp="no"><heartbeat name="a"/></heart></service></safe>`,
    error: "<heart> attribute 'permanent_arp': invalid value 'no' (expected on or off)",
    line: 2,
    column: 8,
  },
  // <farm>
  {
    rule: "farm needs a lan",
    xml: `<safe><service mode="farm">\n<farm/></service></safe>`,
    error: "expected at least one <lan name=",
    line: 2,
    column: 1,
  },
  {
    rule: "farm lan needs a name",
    xml: `<safe><service mode="farm">\n<farm><lan/></farm></service></safe>`,
    error: "<lan>: missing mandatory attribute 'name'",
    line: 2,
    column: 7,
  },
  {
    rule: "legacy farm <node> must not be mixed with <lan>",
    xml:
      `<safe><service mode="farm">\n<farm><lan name="a"/><node name="n" addr="10.0.0.1"/></farm></service></safe>`,
    error: "legacy <node> syntax must not be mixed with <lan>",
    line: 2,
    column: 22,
  },
  {
    rule: "farm mlost_count is a positive integer",
    xml: `<safe><service mode="farm">\n<farm mlost_count="0"><lan name="a"/></farm></service></safe>`,
    error: "attribute 'mlost_count': invalid value '0' (expected an integer >= 1)",
    line: 2,
    column: 7,
  },
  {
    rule: "farm lans are unique",
    xml: `<safe><service mode="farm">\n<farm><lan name="a"/><lan name="a"/></farm></service></safe>`,
    error: "duplicate farm lan 'a'",
    line: 2,
    column: 22,
  },
  // <vip>
  {
    rule: "mirror vip uses <real_interface>",
    xml: mirror(`<vip><interface_list><interface>${VD}</interface></interface_list></vip>`),
    error: "<virtual_interface>: unknown element inside <interface> (allowed: <real_interface>)",
    line: 3,
    column: 33,
  },
  {
    rule: "mirror virtual_addr where is one_side_alias or one_side",
    xml: mirror(
      `<vip><interface_list><interface><real_interface><virtual_addr addr="10.0.0.9" where="alias"/></real_interface></interface></interface_list></vip>`,
    ),
    error: "invalid value 'alias' (expected one_side_alias or one_side)",
    at: `where="alias"`,
  },
  {
    rule: "virtual_addr needs an address",
    xml: mirror(
      `<vip><interface_list><interface><real_interface><virtual_addr/></real_interface></interface></interface_list></vip>`,
    ),
    error: "<virtual_addr>: missing mandatory attribute 'addr'",
    line: 3,
    column: 49,
  },
  {
    rule: "virtual_addr refuses a malformed IPv4",
    xml: mirror(
      `<vip><interface_list><interface><real_interface><virtual_addr addr="10.0.0.300"/></real_interface></interface></interface_list></vip>`,
    ),
    error: "invalid value '10.0.0.300' (expected an IPv4 address like 192.168.1.222)",
    line: 3,
    column: 63,
  },
  {
    rule: "vip needs an interface_list",
    xml: mirror(`<vip/>`),
    error: "missing mandatory element <interface_list>",
    line: 3,
    column: 1,
  },
  {
    rule: "arpinterval is a time in seconds",
    xml: mirror(
      `<vip><interface_list><interface arpinterval="100ms"><real_interface><virtual_addr addr="10.0.0.9"/></real_interface></interface></interface_list></vip>`,
    ),
    error: "invalid value '100ms' for the attribute arpinterval (expected time unit: 's')",
    line: 3,
    column: 33,
  },
  {
    rule: "scriptcontrol is farm only",
    xml: mirror(`<vip scriptcontrol="on"><interface_list/></vip>`),
    error: "<vip> attribute 'scriptcontrol': unknown attribute (allowed: tcpreset)",
    line: 3,
    column: 6,
  },
  {
    rule: "loadbalancing_list is farm only",
    xml: mirror(`<vip><interface_list/><loadbalancing_list/></vip>`),
    error: "<loadbalancing_list>: unknown element inside <vip>",
    line: 3,
    column: 23,
  },
  {
    rule: "virtual_interface type is vmac_directed or vmac_invisible",
    xml: FARM_VIP(`<virtual_interface type="vmac"><virtual_addr addr="10.0.0.9"/></virtual_interface>`, ""),
    error: "invalid value 'vmac' (expected vmac_directed or vmac_invisible)",
    line: 3,
    column: 52,
  },
  {
    rule: "virtual_interface addr is a MAC",
    xml: FARM_VIP(
      `<virtual_interface addr="5A:FE:00"><virtual_addr addr="10.0.0.9"/></virtual_interface>`,
      "",
    ),
    error: "expected a MAC address like 5A:FE:C0:A8:38:14",
    line: 3,
    column: 52,
  },
  {
    rule: "rule proto is mandatory",
    xml: FARM_VIP(
      VD,
      `<loadbalancing_list><group name="g"><rule filter="on_addr"/></group></loadbalancing_list>`,
    ),
    error: "<rule>: missing mandatory attribute 'proto' (expected tcp or udp or arp)",
    at: `<rule filter`,
  },
  {
    rule: "on_ipid is not for tcp",
    xml: FARM_VIP(
      VD,
      `<loadbalancing_list><group name="g"><rule proto="tcp" filter="on_ipid"/></group></loadbalancing_list>`,
    ),
    error: '(expected on_addr or on_port with proto="tcp" (on_ipid is for UDP))',
    at: `filter="on_ipid"`,
  },
  {
    rule: "proto arp needs filter on_addr",
    xml: FARM_VIP(
      VD,
      `<loadbalancing_list><group name="g"><rule proto="arp" filter="on_port"/></group></loadbalancing_list>`,
    ),
    error: 'expected on_addr with proto="arp"',
    at: `filter="on_port"`,
  },
  {
    rule: "proto arp needs vmac_directed",
    xml: FARM_VIP(
      `<virtual_interface type="vmac_invisible"><virtual_addr addr="10.0.0.9"/></virtual_interface>`,
      `<loadbalancing_list><group name="g"><rule proto="arp" filter="on_addr"/></group></loadbalancing_list>`,
    ),
    error: 'proto="arp" needs <virtual_interface type="vmac_directed">',
    line: 3,
    column: 22,
  },
  {
    rule: "rule port is * or a port",
    xml: FARM_VIP(
      VD,
      `<loadbalancing_list><group name="g"><rule port="http" proto="tcp" filter="on_port"/></group></loadbalancing_list>`,
    ),
    error: "attribute 'port': invalid value 'http'",
    at: `port="http"`,
  },
  {
    rule: "a group needs at least one rule",
    xml: FARM_VIP(VD, `<loadbalancing_list><group name="g"/></loadbalancing_list>`),
    error: "expected at least one <rule> element",
    at: `<group name="g"/>`,
  },
  {
    rule: "host power is >= 0",
    xml: FARM_VIP(
      VD,
      `<loadbalancing_list><group name="g"><cluster><host name="node1" power="-2"/></cluster><rule proto="tcp" filter="on_port"/></group></loadbalancing_list>`,
    ),
    error: "attribute 'power': invalid value '-2' (expected an integer >= 0)",
    at: `power="-2"`,
  },
  {
    rule: "group names are unique",
    xml: FARM_VIP(
      VD,
      `<loadbalancing_list><group name="g"><rule proto="tcp" filter="on_port"/></group><group name="g"><rule proto="tcp" filter="on_port"/></group></loadbalancing_list>`,
    ),
    error: "duplicate load-balancing group 'g'",
    at: `<group name="g"><rule proto="tcp" filter="on_port"/></group></loadbalancing_list>`,
  },
  // <rfs>
  {
    rule: "rfs needs a replicated dir",
    xml: mirror(`<rfs/>`),
    error: "expected at least one <replicated> element",
    line: 3,
    column: 1,
  },
  {
    rule: "replicated dir is absolute",
    xml: mirror(`<rfs><replicated dir="data"/></rfs>`),
    error: "expected an absolute path",
    line: 3,
    column: 18,
  },
  {
    rule: "replicated mode is read_only",
    xml: mirror(`<rfs><replicated dir="/d" mode="ro"/></rfs>`),
    error: "invalid value 'ro' (expected read_only)",
    line: 3,
    column: 27,
  },
  {
    rule: "replicated dirs do not overlap",
    xml: mirror(`<rfs><replicated dir="/d"/><replicated dir="/d/sub"/></rfs>`),
    error: "replicated directory '/d/sub' overlaps '/d'",
    line: 3,
    column: 28,
  },
  {
    rule: "async is second or none",
    xml: mirror(`<rfs async="first"><replicated dir="/d"/></rfs>`),
    error: "invalid value 'first' (expected second or none)",
    line: 3,
    column: 6,
  },
  {
    rule: "locktimeout refuses fractions of seconds",
    xml: mirror(`<rfs locktimeout="1500ms"><replicated dir="/d"/></rfs>`),
    error: "invalid value '1500ms' for the attribute locktimeout (expected time unit: 's')",
    line: 3,
    column: 6,
  },
  {
    rule: "syncdelta is in minutes",
    xml: mirror(`<rfs syncdelta="30s"><replicated dir="/d"/></rfs>`),
    error: "invalid value '30s' for the attribute syncdelta (expected time unit: 'm')",
    line: 3,
    column: 6,
  },
  {
    rule: "roflags is 0x10 or 0x10000",
    xml: mirror(`<rfs roflags="0x20"><replicated dir="/d"/></rfs>`),
    error: "invalid value '0x20' (expected 0x10 or 0x10000)",
    line: 3,
    column: 6,
  },
  {
    rule: "syncat is a crontab schedule",
    xml: mirror(`<rfs syncat="/SC DAILY /ST 00:01:00"><replicated dir="/d"/></rfs>`),
    error: "invalid value '/SC DAILY /ST 00:01:00' (expected a crontab schedule such as \"01 0 * * *\" " +
      '("/SC DAILY /ST 00:01:00": a schedule has 5 fields (minute hour day-of-month month day-of-week), ' +
      'e.g. "01 0 * * *"))',
    line: 3,
    column: 6,
  },
  {
    rule: "nbrei is a positive integer",
    xml: mirror(`<rfs nbrei="zero"><replicated dir="/d"/></rfs>`),
    error: "invalid value 'zero' (expected an integer >= 1)",
    line: 3,
    column: 6,
  },
  {
    rule: "notreplicated has path or regexpath",
    xml: mirror(`<rfs><replicated dir="/d"><notreplicated/></replicated></rfs>`),
    error: "expected exactly one of the attributes 'path' or 'regexpath'",
    line: 3,
    column: 27,
  },
  {
    rule: "notreplicated path is relative",
    xml: mirror(`<rfs><replicated dir="/d"><notreplicated path="/d/tmp"/></replicated></rfs>`),
    error: "expected a path relative to the replicated directory",
    line: 3,
    column: 42,
  },
  {
    rule: "only one legacy <flow>",
    xml: mirror(`<rfs><replicated dir="/d"/><flow name="a"/><flow name="b"/></rfs>`),
    error: "only one <flow> is allowed inside <rfs>",
    line: 3,
    column: 44,
  },
  {
    rule: "unknown rfs attributes are refused",
    xml: mirror(`<rfs asynch="none"><replicated dir="/d"/></rfs>`),
    error: "<rfs> attribute 'asynch': unknown attribute (allowed: acl, async,",
    line: 3,
    column: 6,
  },
  // <user>, <vhost>
  {
    rule: "user logging is userlog or none",
    xml: light(``).replace("<user/>", `<user logging="syslog"/>`),
    error: "invalid value 'syslog' (expected userlog or none)",
    line: 2,
    column: 7,
  },
  {
    rule: "var needs a value attribute",
    xml: light(``).replace("<user/>", `<user><var name="A"/></user>`),
    error: "<var>: missing mandatory attribute 'value'",
    line: 2,
    column: 7,
  },
  {
    rule: "var names are unique",
    xml: light(``).replace("<user/>", `<user><var name="A" value="1"/><var name="A" value="2"/></user>`),
    error: "a variable not already defined ('A' is)",
    line: 2,
    column: 37,
  },
  {
    rule: "vhost needs envfile",
    xml: light(`<vhost><virtualhostname name="v"/></vhost>`),
    error: "missing mandatory attribute 'envfile'",
    line: 3,
    column: 8,
  },
  {
    rule: "vhost when is prim/second/both",
    xml: light(`<vhost><virtualhostname name="v" envfile="e" when="pre"/></vhost>`),
    error: "invalid value 'pre' (expected prim or second or both)",
    line: 3,
    column: 46,
  },
  // <errd>
  {
    rule: "errd requires <user>",
    xml: `<safe><service mode="light">\n<errd><proc name="a" class="prim"/></errd></service></safe>`,
    error: "<errd>: <errd> requires a <user> element",
    line: 2,
    column: 1,
  },
  {
    rule: "proc needs a class",
    xml: light(`<errd><proc name="a"/></errd>`),
    error: "<proc>: missing mandatory attribute 'class'",
    line: 3,
    column: 7,
  },
  {
    rule: "proc atleast >= -1",
    xml: light(`<errd><proc name="a" class="prim" atleast="-2"/></errd>`),
    error: "attribute 'atleast': invalid value '-2' (expected an integer >= -1)",
    line: 3,
    column: 35,
  },
  {
    rule: "proc atmax below atleast is refused",
    xml: light(`<errd><proc name="a" class="prim" atleast="3" atmax="2"/></errd>`),
    error: "expected -1 or a count >= atleast (3)",
    line: 3,
    column: 47,
  },
  {
    rule: "proc service is yes/no",
    xml: light(`<errd><proc name="a" class="prim" service="on"/></errd>`),
    error: "invalid value 'on' (expected yes or no)",
    line: 3,
    column: 35,
  },
  {
    rule: "polltimer is a time in seconds",
    xml: light(`<errd polltimer="10x"><proc name="a" class="prim"/></errd>`),
    error: "<errd> attribute 'polltimer': invalid value '10x'",
    line: 3,
    column: 7,
  },
  {
    rule: "same process and class twice is refused",
    xml: light(`<errd><proc name="a" class="prim"/><proc name="a" class="prim"/></errd>`),
    error: "process 'a' is already monitored in class 'prim'",
    line: 3,
    column: 36,
  },
  // <check>
  {
    rule: "tcp checker needs when",
    xml: light(`<check><tcp ident="t"><to addr="1.2.3.4" port="80"/></tcp></check>`),
    error: "<tcp>: missing mandatory attribute 'when'",
    line: 3,
    column: 8,
  },
  {
    rule: "tcp checker needs a port",
    xml: light(`<check><tcp ident="t" when="prim"><to addr="1.2.3.4"/></tcp></check>`),
    error: "<to>: missing mandatory attribute 'port'",
    line: 3,
    column: 35,
  },
  {
    rule: "tcp checker needs a <to>",
    xml: light(`<check><tcp ident="t" when="prim"/></check>`),
    error: "missing mandatory element <to>",
    line: 3,
    column: 8,
  },
  {
    rule: "when=pre allows only wait or noaction",
    xml: light(
      `<check><tcp ident="t" when="pre" action="restart"><to addr="1.2.3.4" port="80"/></tcp></check>`,
    ),
    error: 'expected wait or noaction with when="pre"',
    line: 3,
    column: 34,
  },
  {
    rule: "checker action is a known action",
    xml: light(`<check><ping ident="p" action="reboot"><to addr="1.2.3.4"/></ping></check>`),
    error: "invalid value 'reboot' (expected stop or stopstart or restart or wait or noaction)",
    line: 3,
    column: 24,
  },
  {
    rule: "checker ident is mandatory",
    xml: light(`<check><ping><to addr="1.2.3.4"/></ping></check>`),
    error: "<ping>: missing mandatory attribute 'ident'",
    line: 3,
    column: 8,
  },
  {
    rule: "checker interval is a time",
    xml: light(`<check><ping ident="p"><to addr="1.2.3.4" interval="fast"/></ping></check>`),
    error: "<to> attribute 'interval': invalid value 'fast'",
    line: 3,
    column: 43,
  },
  {
    rule: "intf checker needs local_addr",
    xml: light(`<check><intf ident="i"><to addr="1.2.3.4"/></intf></check>`),
    error: "<to> attribute 'addr': unknown attribute (allowed: local_addr)",
    line: 3,
    column: 28,
  },
  {
    rule: "intf when is only pre",
    xml: light(`<check><intf ident="i" when="prim"><to local_addr="1.2.3.4"/></intf></check>`),
    error: "invalid value 'prim' (expected pre)",
    line: 3,
    column: 24,
  },
  {
    rule: "ip when is prim or both",
    xml: light(`<check><ip ident="i" when="pre"><to addr="1.2.3.4"/></ip></check>`),
    error: "invalid value 'pre' (expected prim or both)",
    line: 3,
    column: 22,
  },
  {
    rule: "custom checker needs exec",
    xml: light(`<check><custom ident="c" when="prim"/></check>`),
    error: "<custom>: missing mandatory attribute 'exec'",
    line: 3,
    column: 8,
  },
  {
    rule: "module checker needs the module name",
    xml: light(`<check><module ident="m"/></check>`),
    error: "<module>: missing mandatory attribute 'name'",
    line: 3,
    column: 8,
  },
  {
    rule: "module checker secure is on/off",
    xml: light(`<check><module name="m"><to secure="yes"/></module></check>`),
    error: "<to> attribute 'secure': invalid value 'yes' (expected on or off)",
    line: 3,
    column: 29,
  },
  {
    rule: "splitbrain is mirror only",
    xml: light(`<check><splitbrain ident="w" exec="ping" arg="w1"/></check>`),
    error: "<splitbrain>: unknown element inside <check>",
    line: 3,
    column: 8,
  },
  {
    rule: "only one splitbrain checker",
    xml: mirror(
      `<check><splitbrain ident="w" exec="ping" arg="w1"/><splitbrain ident="x" exec="ping" arg="w2"/></check>`,
    ),
    error: "only one <splitbrain> checker is allowed",
    line: 3,
    column: 52,
  },
  {
    rule: "checker resources are unique",
    xml: light(
      `<check><ping ident="p"><to addr="1.2.3.4"/></ping><ping ident="p"><to addr="1.2.3.5"/></ping></check>`,
    ),
    error: "duplicate checker resource 'ping.p'",
    line: 3,
    column: 51,
  },
  {
    rule: "unknown checker is listed",
    xml: light(`<check><http ident="h"/></check>`),
    error:
      "<http>: unknown element inside <check> (allowed: <tcp>, <ping>, <intf>, <ip>, <custom>, <module>)",
    line: 3,
    column: 8,
  },
  // <failover>
  {
    rule: "failover rules must be in CDATA",
    xml: light(`<failover>x: if (a.b == down) then wait();</failover>`),
    error: "rules must be written inside <![CDATA[ ... ]]>",
    line: 3,
    column: 1,
  },
  {
    rule: "failover extends is yes/no",
    xml: light(`<failover extends="on"/>`),
    error: "<failover> attribute 'extends': invalid value 'on' (expected yes or no)",
    line: 3,
    column: 11,
  },
  {
    rule: "handle_time is a multiple of period",
    xml: light(`<failover period="2000" handle_time="5000"/>`),
    error: "attribute 'handle_time': invalid value '5000' (expected a multiple of period (2000 ms))",
    line: 3,
    column: 25,
  },
  {
    rule: "period is a time in ms",
    xml: light(`<failover period="500us"/>`),
    error: "invalid value '500us' for the attribute period (expected time unit: 'ms')",
    line: 3,
    column: 11,
  },
  {
    rule: "one CDATA section per language",
    xml: light(`<failover><![CDATA[a]]><![CDATA[b]]></failover>`),
    error: "only one CDATA section per rule language",
    line: 3,
    column: 1,
  },
  {
    rule: "failover has no child elements",
    xml: light(`<failover><rule/></failover>`),
    error: "<rule>: unexpected element inside <failover>",
    line: 3,
    column: 11,
  },
]; // deno-fmt-ignore

for (const row of rows) {
  Deno.test(`userconfig error: ${row.rule}`, () => {
    let caught: unknown;
    try {
      parseUserConfig(row.xml, "userconfig.xml", row.env ?? {});
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${caught}`);
    assert.ok(caught.message.includes(row.error), `message: ${caught.message}\nexpected: ${row.error}`);
    const { line, column } = expectedPosition(row);
    assert.ok(
      caught.message.startsWith(`Error: userconfig.xml:${line}:${column}: `),
      `message: ${caught.message}\nexpected position ${line}:${column}`,
    );
    assert.equal(caught.line, line);
    assert.equal(caught.column, column);
  });
}

Deno.test("userconfig error: the time unit message quotes the spec verbatim and fills the fields", () => {
  const text = `<safe><service mode="light" boot_delay="500ms"/></safe>`;
  let err: unknown;
  try {
    parseUserConfig(text);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  {
    assert.equal(
      err.message,
      "Error: userconfig.xml:1:29: <service> attribute 'boot_delay': " +
        "invalid value '500ms' for the attribute boot_delay (expected time unit: 's')",
    );
    assert.equal(err.file, "userconfig.xml");
    assert.equal(err.element, "service");
    assert.equal(err.attribute, "boot_delay");
    assert.equal(err.found, "500ms");
    assert.equal(err.expected, "time unit: 's'");
  }
});

Deno.test("userconfig error: the file name given is the one reported", () => {
  assert.throws(
    () => parseUserConfig(`<safe/>`, "/opt/safekit/modules/m/conf/userconfig.xml"),
    (e: unknown) => {
      return e instanceof ConfigError &&
        e.message.startsWith("Error: /opt/safekit/modules/m/conf/userconfig.xml:1:1:");
    },
  );
});
