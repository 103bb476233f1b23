import type { Role } from "./auth/roles.ts";

// The REST API as data: one table drives the Hono routes, the authorisation rule and the OpenAPI document,
// so the three cannot drift apart.

export type Caller =
  | { readonly kind: "local"; readonly user: string }
  | { readonly kind: "peer"; readonly node: string; readonly address: string }
  | {
    readonly kind: "user";
    readonly user: string;
    readonly role: Role;
    readonly via: "session" | "bearer";
    readonly address: string;
  }
  | { readonly kind: "anonymous"; readonly address: string };

export type ApiRequest = {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly caller: Caller;
  json<T = unknown>(): T;
  text(): string;
};

export type ApiResult =
  | { readonly json: unknown; readonly status?: number }
  | { readonly bytes: Uint8Array; readonly contentType: string; readonly filename?: string }
  | { readonly text: string; readonly status?: number; readonly contentType?: string }
  /** A long-lived answer written as it goes (server-sent events); never buffered nor cached. */
  | { readonly stream: ReadableStream<Uint8Array>; readonly contentType: string };

export type Route = {
  readonly method: "get" | "post" | "put" | "delete";
  /** OpenAPI-style path under /api/v1, e.g. "/modules/{module}". */
  readonly path: string;
  /** Served at this path instead of /api/v1 + path (e.g. /metrics, where Prometheus looks). */
  readonly absolutePath?: string;
  readonly summary: string;
  /** State-changing calls are refused unless they come from the local CLI or a cluster node. */
  readonly mutates: boolean;
  /** Who may call it over HTTP: reads need Monitor, changes Admin unless this says Control (module actions). */
  readonly requiredRole?: Role;
  readonly requestBody?: "json" | "binary" | "text";
  readonly query?: readonly string[];
  readonly handler: (req: ApiRequest) => Promise<ApiResult> | ApiResult;
};

export function callerLabel(c: Caller): string {
  switch (c.kind) {
    case "local":
      return c.user;
    case "peer":
      return `${c.node}@${c.address}`;
    case "user":
      return `${c.user}@${c.address}`;
    case "anonymous":
      return `anonymous@${c.address}`;
  }
}
