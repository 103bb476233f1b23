/// <reference lib="dom" />
// The console's pages live in the URL fragment, so the node serves one page and a reload keeps the place.
// The names follow SafeKit's console routes (spec §9.3).

export type Page =
  | { readonly kind: "monitoring" }
  | { readonly kind: "log"; readonly module: string; readonly node: string }
  | { readonly kind: "resources"; readonly module: string; readonly node: string }
  | { readonly kind: "commands"; readonly node: string | null }
  | { readonly kind: "cluster" }
  | { readonly kind: "modules" }
  | { readonly kind: "module-config"; readonly module: string };

export function parseHash(hash: string): Page {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(safeDecode);
  if (parts[0] === "configuration" && parts[1] === "cluster") return { kind: "cluster" };
  if (parts[0] === "configuration" && parts[1] === "modules") {
    return parts[2] ? { kind: "module-config", module: parts[2] } : { kind: "modules" };
  }
  if (parts[0] === "monitoring" && parts[1] === "commands") {
    return { kind: "commands", node: parts[2] ?? null };
  }
  if (parts[0] === "monitoring" && parts[1] === "modules" && parts[3] === "nodes" && parts[2] && parts[4]) {
    const tab = parts[5] === "resources" ? "resources" : "log";
    return { kind: tab, module: parts[2], node: parts[4] };
  }
  return { kind: "monitoring" };
}

export function hashOf(page: Page): string {
  switch (page.kind) {
    case "monitoring":
      return "#/monitoring";
    case "cluster":
      return "#/configuration/cluster";
    case "modules":
      return "#/configuration/modules";
    case "module-config":
      return `#/configuration/modules/${encodeURIComponent(page.module)}`;
    case "commands":
      return page.node ? `#/monitoring/commands/${encodeURIComponent(page.node)}` : "#/monitoring/commands";
    default:
      return `#/monitoring/modules/${encodeURIComponent(page.module)}/nodes/${
        encodeURIComponent(page.node)
      }/${page.kind}`;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
