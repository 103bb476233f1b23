// Builds the OpenAPI 3 document of the REST API from the route table.
import type { Route } from "./route_table.ts";
import { requiredRoleOf } from "./auth/roles.ts";

export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const query = (r.query ?? []).map((q) => ({
      name: q,
      in: "query",
      required: false,
      schema: { type: "string" },
    }));
    const op: Record<string, unknown> = {
      summary: r.summary,
      parameters: [...params, ...query],
      // Who may call it: a user with this role or more (session or API key), or a cluster node.
      "x-required-role": requiredRoleOf(r),
      responses: {
        "200": { description: "OK" },
        "400": { description: "Invalid request", content: { "application/json": { schema: errorJson } } },
        "401": {
          description: "No credentials, or credentials not valid",
          content: { "application/json": { schema: errorJson } },
        },
        "403": {
          description: `Refused: the caller's role is below ${requiredRoleOf(r)}` +
            (r.mutates ? ", or a browser session sent no valid x-csrf-token / a foreign Origin" : ""),
          content: { "application/json": { schema: errorJson } },
        },
        "404": { description: "No such module or resource" },
        "409": { description: "Not allowed in the current state" },
        ...(r.requestBody
          ? {
            "413": { description: "Request body larger than this route accepts" },
            "415": { description: "Content-Type is not the one this route takes" },
          }
          : {}),
        "429": { description: "Too many failed logins from this address or for this user: retry later" },
        "503": { description: "The authentication directory (external provider) is unavailable" },
      },
    };
    op["security"] = [{ session: [], csrf: [] }, { bearer: [] }, { clusterKey: [] }];
    if (r.requestBody) {
      const type = r.requestBody === "json"
        ? "application/json"
        : r.requestBody === "text"
        ? "text/plain"
        : "application/octet-stream";
      op["requestBody"] = { required: true, content: { [type]: { schema: { type: "string" } } } };
    }
    (paths[r.absolutePath ?? `/api/v1${r.path}`] ??= {})[r.method] = op;
  }
  paths["/var/modules/{module}/ready.txt"] = {
    get: {
      summary: "Health probe: 200 when the module is PRIM/ALONE Ready (mirror) or UP Ready (farm), else 404",
      parameters: [{ name: "module", in: "path", required: true, schema: { type: "string" } }],
      responses: { "200": { description: "OK" }, "404": { description: "NOT FOUND" } },
    },
  };
  return {
    openapi: "3.0.3",
    info: { title: "safekit node service API", version },
    paths,
    components: {
      securitySchemes: {
        session: {
          type: "apiKey",
          in: "cookie",
          name: "sessionSK",
          description: "Browser session from POST /login (HttpOnly, SameSite=Strict, 8 h idle expiry)",
        },
        csrf: {
          type: "apiKey",
          in: "header",
          name: "x-csrf-token",
          description:
            "With a session, state-changing calls echo the session's CSRF token (GET /api/v1/whoami)",
        },
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "API key from `safekit apikey create ROLE NAME` (scripts, Prometheus)",
        },
        clusterKey: {
          type: "apiKey",
          in: "header",
          name: "x-safekit-peer",
          description:
            "HMAC-SHA256 signature with the cluster key (node-to-node calls); the local CLI uses the " +
            "node's control socket instead.",
        },
      },
    },
  };
}

const errorJson = { type: "object", properties: { error: { type: "string" } } };
