/// <reference lib="dom" />
// A node's module API as the console reaches it: through the node it is logged in to (`/api/v1/nodes/...`,
// which also serves that node itself), since the session exists on that node only.

export function modulePath(node: string, module: string, rest = ""): string {
  return `/api/v1/nodes/${encodeURIComponent(node)}/modules/${encodeURIComponent(module)}${rest}`;
}
