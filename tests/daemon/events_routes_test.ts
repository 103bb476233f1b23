import assert from "node:assert/strict";
import { eventsRoutes } from "../../src/daemon/events_routes.ts";
import type { ApiRequest } from "../../src/web/route_table.ts";

const req = {} as ApiRequest;

Deno.test("events route: a Monitor read that streams text/event-stream, 503 with the reason beyond the bound", async () => {
  const { routes, hub } = eventsRoutes({ rows: () => Promise.resolve([]), maxClients: 1 });
  const [route] = routes;
  assert.equal(route.method, "get");
  assert.equal(route.path, "/events");
  assert.equal(route.mutates, false);
  assert.equal(route.requiredRole, undefined); // reads need Monitor (src/web/auth/roles.ts)
  const first = await route.handler(req);
  assert.ok("stream" in first);
  assert.match(first.contentType, /^text\/event-stream/);
  const second = await route.handler(req);
  assert.ok("json" in second);
  assert.equal(second.status, 503);
  assert.match(String((second.json as { error: string }).error), /too many live-update streams \(1 open/);
  await first.stream.cancel();
  assert.equal(hub.clientCount, 0);
  const third = await route.handler(req);
  assert.ok("stream" in third, "a closed stream frees its place");
  await third.stream.cancel();
  hub.close();
});
