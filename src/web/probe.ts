// The health probe cloud load balancers poll (spec §9.6): GET/HEAD /var/modules/AM/ready.txt answers 200
// when the module is PRIM or ALONE Ready (mirror) or UP Ready (farm), 404 otherwise. No authentication,
// no store access: one lookup in a set the node service keeps current, so it stays fast under load.
import type { Context } from "hono";

export type ReadySource = {
  isReady(module: string): boolean;
  /** When the module last became ready (epoch ms): sent as the ETag, which changes at each restart. */
  readySince?(module: string): number | undefined;
};

const OK = "OK\n";
const NOT_FOUND = "NOT FOUND\n";
const headers = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };

export function probeResponse(c: Context, source: ReadySource): Response {
  const module = c.req.param("module") ?? "";
  const ready = source.isReady(module);
  const body = c.req.method === "HEAD" ? null : ready ? OK : NOT_FOUND;
  const since = ready ? source.readySince?.(module) : undefined;
  return new Response(body, {
    status: ready ? 200 : 404,
    headers: since === undefined ? headers : { ...headers, etag: `"ready-${since}"` },
  });
}
