// Builds the OpenAPI 3 document of the REST API from the route table.
import type { Route } from "./route_table.ts";

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
      responses: {
        "200": { description: "OK" },
        "400": { description: "Invalid request", content: { "application/json": { schema: errorSchema } } },
        "403": { description: "Refused: state-changing call without local or cluster-key authentication" },
        "404": { description: "No such module or resource" },
        "409": { description: "Not allowed in the current state" },
      },
    };
    if (r.mutates) op["security"] = [{ clusterKey: [] }];
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

const errorSchema = { type: "object", properties: { error: { type: "string" } } };
