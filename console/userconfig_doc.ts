/// <reference lib="dom" />
// The essentials of a module's userconfig.xml (spec §4.3–4.11) read from and written back into the parsed
// XML document itself, so everything the form does not show (comments, <failover> rules, <errd>, unknown
// elements and attributes, element order) is kept exactly: the form changes only the attributes and the
// elements it shows, and serialising the same document gives the file back.

// `origin` is the element's position in the file: a row keeps its own element (and what the form does not
// show inside it, such as <notreplicated> under <replicated>) when rows before it are removed.
export type Heartbeat = { name: string; ident: string; origin?: number };
export type Replicated = { dir: string; mode: string; origin?: number };
/** One element of <check>: its tag (tcp, ping, custom, module, ...), its attributes and those of its <to>. */
export type Checker = {
  type: string;
  attrs: Record<string, string>;
  to: Record<string, string> | null;
  origin?: number;
};

export type Essentials = {
  mode: string;
  /** <heart> (mirror only); null when the file has none. */
  heart: { pulse: string; timeout: string; heartbeats: Heartbeat[] } | null;
  /** The virtual IPs (every <virtual_addr addr>), in document order. */
  vips: string[];
  replicated: Replicated[];
  checkers: Checker[];
  /** <user>: without it no script runs (spec §4.8); the timeouts of the stop scripts. */
  scripts: { enabled: boolean; nicestoptimeout: string; forcestoptimeout: string };
};

export type Parsed = { doc: Document; declaration: string };

/** Parses the text; throws with the browser's own message when it is not well-formed XML. */
export function parseUserconfig(xml: string): Parsed {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const err = doc.getElementsByTagName("parsererror")[0];
  if (err) {
    throw new Error(`userconfig.xml is not well-formed XML: ${err.textContent?.trim().split("\n")[0]}`);
  }
  if (!service(doc)) throw new Error("userconfig.xml has no <service> element");
  return { doc, declaration: /^\s*<\?xml[^?]*\?>/.exec(xml)?.[0].trim() ?? "" };
}

export function serialiseUserconfig(p: Parsed): string {
  const body = new XMLSerializer().serializeToString(p.doc);
  return (p.declaration ? `${p.declaration}\n` : "") + body + (body.endsWith("\n") ? "" : "\n");
}

function service(doc: Document): Element | null {
  return doc.getElementsByTagName("service")[0] ?? null;
}

function child(parent: Element, tag: string): Element | null {
  for (const c of Array.from(parent.children)) if (c.tagName === tag) return c;
  return null;
}

function children(parent: Element, tag: string): Element[] {
  return Array.from(parent.children).filter((c) => c.tagName === tag);
}

function attrs(e: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of Array.from(e.attributes)) out[a.name] = a.value;
  return out;
}

export function readEssentials(p: Parsed): Essentials {
  const svc = service(p.doc)!;
  const heart = child(svc, "heart");
  const rfs = child(svc, "rfs");
  const check = child(svc, "check");
  const user = child(svc, "user");
  const vip = child(svc, "vip");
  return {
    mode: svc.getAttribute("mode") ?? "",
    heart: heart
      ? {
        pulse: heart.getAttribute("pulse") ?? "",
        timeout: heart.getAttribute("timeout") ?? "",
        heartbeats: children(heart, "heartbeat").map((h, origin) => ({
          name: h.getAttribute("name") ?? "",
          ident: h.getAttribute("ident") ?? "",
          origin,
        })),
      }
      : null,
    vips: vip
      ? Array.from(vip.getElementsByTagName("virtual_addr")).map((v) => v.getAttribute("addr") ?? "")
      : [],
    replicated: rfs
      ? children(rfs, "replicated").map((r, origin) => ({
        dir: r.getAttribute("dir") ?? "",
        mode: r.getAttribute("mode") ?? "",
        origin,
      }))
      : [],
    checkers: check
      ? Array.from(check.children).map((c, origin) => {
        const to = child(c, "to");
        return { type: c.tagName, attrs: attrs(c), to: to ? attrs(to) : null, origin };
      })
      : [],
    scripts: {
      enabled: user !== null,
      nicestoptimeout: user?.getAttribute("nicestoptimeout") ?? "",
      forcestoptimeout: user?.getAttribute("forcestoptimeout") ?? "",
    },
  };
}

/** Sets an attribute, or removes it when the value is empty (the default then applies). */
function setAttr(e: Element, name: string, value: string) {
  if (value.trim() === "") e.removeAttribute(name);
  else if (e.getAttribute(name) !== value.trim()) e.setAttribute(name, value.trim());
}

/**
 * A checker's attributes as the form lists them: every one is kept, even empty, so the field stays in the
 * form until it is filled (the node's check then names what is missing).
 */
function setAttrs(e: Element, values: Record<string, string>) {
  for (const a of Array.from(e.attributes)) if (!(a.name in values)) e.removeAttribute(a.name);
  for (const [k, v] of Object.entries(values)) {
    if (e.getAttribute(k) !== v.trim()) e.setAttribute(k, v.trim());
  }
}

/** Indentation of `parent`'s children as written in the file, so added elements line up with the others. */
function indentOf(parent: Element): string {
  const prev = parent.previousSibling;
  const own = prev && prev.nodeType === Node.TEXT_NODE
    ? /\n([ \t]*)$/.exec(prev.textContent ?? "")?.[1] ?? ""
    : "";
  return own + "  ";
}

/** Appends an element after the parent's last element child, on its own line. */
function append(parent: Element, tag: string, values: Record<string, string> = {}): Element {
  const e = parent.ownerDocument.createElement(tag);
  for (const [k, v] of Object.entries(values)) if (v.trim()) e.setAttribute(k, v.trim());
  const indent = indentOf(parent);
  const last = parent.lastElementChild;
  if (last) last.after(parent.ownerDocument.createTextNode(`\n${indent}`), e);
  else {
    parent.append(parent.ownerDocument.createTextNode(`\n${indent}`), e);
    parent.append(parent.ownerDocument.createTextNode(`\n${indent.slice(2)}`));
  }
  return e;
}

/** Removes an element with the whitespace before it, so no blank line is left. */
function remove(e: Element) {
  const prev = e.previousSibling;
  if (prev && prev.nodeType === Node.TEXT_NODE && /^\s*$/.test(prev.textContent ?? "")) prev.remove();
  e.remove();
}

/**
 * Makes the elements match the rows: a row with an origin updates its own element, a new row gets a new
 * element (`make`), and the elements no row refers to any more are removed.
 */
function syncList<T extends { origin?: number }>(
  existing: Element[],
  wanted: readonly T[],
  update: (e: Element, v: T) => void,
  make: (v: T) => Element,
) {
  const kept = new Set<Element>();
  for (const v of wanted) {
    const own = v.origin !== undefined ? existing[v.origin] : undefined;
    if (own && !kept.has(own)) {
      update(own, v);
      kept.add(own);
    } else kept.add(make(v));
  }
  for (const e of existing) if (!kept.has(e)) remove(e);
}

function ensure(parent: Element, tag: string): Element {
  return child(parent, tag) ?? append(parent, tag);
}

/** Writes the form's values into the document; everything else in it stays as it was. */
export function writeEssentials(p: Parsed, e: Essentials): void {
  const svc = service(p.doc)!;

  if (e.heart) {
    const heart = ensure(svc, "heart");
    setAttr(heart, "pulse", e.heart.pulse);
    setAttr(heart, "timeout", e.heart.timeout);
    syncList(children(heart, "heartbeat"), e.heart.heartbeats.filter((h) => h.name.trim()), (el, h) => {
      setAttr(el, "name", h.name);
      setAttr(el, "ident", h.ident);
    }, (h) => append(heart, "heartbeat", { name: h.name, ident: h.ident }));
  }

  const vip = child(svc, "vip");
  const existingVips = vip ? Array.from(vip.getElementsByTagName("virtual_addr")) : [];
  if (e.vips.some((v) => v.trim()) || existingVips.length > 0) {
    const rows = e.vips.map((addr, origin) => ({ addr, origin })).filter((v) => v.addr.trim());
    syncList(existingVips, rows, (el, v) => setAttr(el, "addr", v.addr), ({ addr }) => {
      // New addresses go next to the last one, or in a new <vip> block of the form spec §4.6 gives.
      const holder = existingVips.at(-1)?.parentElement ?? newVipHolder(svc, e.mode);
      return append(holder, "virtual_addr", { addr, where: e.mode === "farm" ? "alias" : "one_side_alias" });
    });
  }

  const replicated = e.replicated.filter((r) => r.dir.trim());
  const rfs = child(svc, "rfs");
  if (replicated.length > 0 || rfs) {
    const r = rfs ?? append(svc, "rfs");
    syncList(children(r, "replicated"), replicated, (el, v) => {
      setAttr(el, "dir", v.dir);
      setAttr(el, "mode", v.mode);
    }, (v) => append(r, "replicated", { dir: v.dir, mode: v.mode }));
  }

  const check = child(svc, "check");
  if (e.checkers.length > 0 || check) {
    const c = check ?? append(svc, "check");
    syncList(Array.from(c.children), e.checkers, (el, ck) => {
      setAttrs(el, ck.attrs);
      if (ck.to) setAttrs(ensure(el, "to"), ck.to);
    }, (ck) => {
      const el = append(c, ck.type);
      setAttrs(el, ck.attrs);
      if (ck.to) setAttrs(append(el, "to"), ck.to);
      return el;
    });
  }

  const user = child(svc, "user");
  if (e.scripts.enabled) {
    const u = user ?? append(svc, "user");
    setAttr(u, "nicestoptimeout", e.scripts.nicestoptimeout);
    setAttr(u, "forcestoptimeout", e.scripts.forcestoptimeout);
  } else if (user) remove(user);
}

function newVipHolder(svc: Element, mode: string): Element {
  const vip = child(svc, "vip") ?? append(svc, "vip");
  const list = ensure(vip, "interface_list");
  const intf = ensure(list, "interface");
  return ensure(intf, mode === "farm" ? "virtual_interface" : "real_interface");
}

/** The fields a new checker of each kind needs (spec §4.11), for the "Add checker" buttons. */
export function newChecker(type: "tcp" | "ping" | "custom" | "module"): Checker {
  switch (type) {
    case "tcp":
      return { type, attrs: { ident: "", when: "prim" }, to: { addr: "", port: "" } };
    case "ping":
      return { type, attrs: { ident: "", when: "pre" }, to: { addr: "" } };
    case "custom":
      return { type, attrs: { ident: "", when: "prim", exec: "", arg: "", action: "restart" }, to: null };
    case "module":
      return { type, attrs: { name: "" }, to: null };
  }
}
