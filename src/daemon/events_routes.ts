// Live updates for the console: GET /api/v1/events streams the cluster's module states as server-sent events
// (event `modules`, the same JSON as GET /api/v1/cluster/modules), at connect and whenever it changes, so
// the monitoring page needs no polling. One snapshot per tick serves every client (src/web/events).
import type { Route } from "../web/route_table.ts";
import { SnapshotHub } from "../web/events/snapshot_hub.ts";
import type { ConsoleNodeRow } from "./console_routes.ts";

/** How often the states are compared: a state change shows within this delay (plus a remote node's answer). */
export const EVENTS_TICK_MS = 500;
/** A comment line this often keeps proxies and idle connections open. */
export const EVENTS_KEEPALIVE_MS = 15_000;
/** Beyond this many open streams a new one is refused (503) and the console polls instead. */
export const EVENTS_MAX_CLIENTS = 200;
/**
 * The login is checked when a stream opens; ending each stream after this long makes the browser reconnect
 * and be checked again, so a logged-out or expired session stops receiving states within this delay.
 */
export const EVENTS_MAX_LIFETIME_MS = 5 * 60_000;

export type EventsOptions = {
  readonly rows: () => Promise<readonly ConsoleNodeRow[]>;
  readonly tickMs?: number;
  readonly keepAliveMs?: number;
  readonly maxClients?: number;
  readonly maxLifetimeMs?: number;
};

export function eventsRoutes(o: EventsOptions): { routes: Route[]; hub: SnapshotHub } {
  const maxClients = o.maxClients ?? EVENTS_MAX_CLIENTS;
  const hub = new SnapshotHub({
    event: "modules",
    snapshot: o.rows,
    tickMs: o.tickMs ?? EVENTS_TICK_MS,
    keepAliveMs: o.keepAliveMs ?? EVENTS_KEEPALIVE_MS,
    maxClients,
    maxLifetimeMs: o.maxLifetimeMs ?? EVENTS_MAX_LIFETIME_MS,
  });
  const routes: Route[] = [{
    method: "get",
    path: "/events",
    summary:
      "Server-sent events (text/event-stream): event `modules` carries the JSON of /cluster/modules, " +
      `sent at connect and on every change; a comment every ${
        (o.keepAliveMs ?? EVENTS_KEEPALIVE_MS) / 1000
      } s; ` +
      `503 beyond ${maxClients} open streams`,
    mutates: false,
    handler: () => {
      const stream = hub.connect();
      if (!stream) {
        return {
          json: {
            error: `too many live-update streams (${maxClients} open on this node); poll ` +
              "GET /api/v1/cluster/modules instead",
          },
          status: 503,
        };
      }
      return { stream, contentType: "text/event-stream; charset=utf-8" };
    },
  }];
  return { routes, hub };
}
