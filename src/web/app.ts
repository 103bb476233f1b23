// The node service's HTTP face: the health probe, the versioned REST API and its OpenAPI document.
// The same app serves the local control socket (the CLI: trusted as the local administrator) and the
// node's address on port 9010 (other nodes: state-changing calls need the cluster-key signature).
import { Hono } from "hono";
import { NodeError } from "../daemon/node_error.ts";
import { authRoutes, type AuthService } from "./auth/mod.ts";
import { openApiDocument } from "./openapi.ts";
import { peerHeaderProblem } from "./peer_auth.ts";
import { probeResponse, type ReadySource } from "./probe.ts";
import { mountSwaggerUi } from "./swagger_ui.ts";
import { mountConsole } from "./console.ts";
import { type ApiRequest, type Caller, callerLabel, type Route } from "./route_table.ts";

export type Transport =
  | { readonly kind: "local" }
  | { readonly kind: "tcp"; readonly remoteAddr: string; readonly tls?: boolean };
export type Env = { Bindings: { transport: Transport } };

export type AppDeps = {
  readonly routes: readonly Route[];
  readonly ready: ReadySource;
  readonly version: string;
  /** Console and API users: sessions, API keys, roles (src/web/auth). */
  readonly auth: AuthService;
  /** Verifies a cluster-key signature; returns the peer node name or a refusal reason. */
  verifyPeer(
    header: string | null,
    method: string,
    pathAndQuery: string,
    body: Uint8Array,
  ): Promise<{ ok: true; node: string } | { ok: false; reason: string }>;
  /** Records a state-changing call in the command log; returns a function that records its end. */
  recordCommand(caller: Caller, what: string): (code: number) => void;
};

/** Request bodies are bounded before they are read: a .safe module is the largest thing the API accepts. */
export const MAX_BODY_BYTES = 300 * 1024 * 1024;
/** Routes that take JSON, text or nothing: far more than any command or cluster.xml needs. */
export const MAX_SMALL_BODY_BYTES = 4 * 1024 * 1024;

/** Only binary uploads (.safe modules, cluster bundles) may be large; the rest stop reading early. */
export function maxBodyBytesOf(route: Pick<Route, "requestBody">): number {
  return route.requestBody === "binary" ? MAX_BODY_BYTES : MAX_SMALL_BODY_BYTES;
}

const routeTables = new WeakMap<object, readonly Route[]>();

/** The route table an app was built from, so security tests can sweep every route, present and future. */
export function routeTableOf(app: Hono<Env>): readonly Route[] {
  return routeTables.get(app) ?? [];
}

export function buildApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  routeTables.set(app, deps.routes);
  app.use("*", async (c, next) => {
    await next();
    try {
      addSecurityHeaders(c.res.headers);
    } catch {
      // Immutable headers (Response.redirect, a proxied fetch answer): copy the answer, then add them.
      c.res = new Response(c.res.body, c.res);
      addSecurityHeaders(c.res.headers);
    }
  });
  app.on(["GET", "HEAD"], "/var/modules/:module/ready.txt", (c) => probeResponse(c, deps.ready));

  const doc = openApiDocument(deps.routes, deps.version);
  app.get("/api/openapi.json", (c) => c.json(doc));
  app.route("/", authRoutes(deps.auth));
  mountSwaggerUi(app);
  mountConsole(app);

  for (const route of deps.routes) {
    const honoPath = (route.absolutePath ?? "/api/v1" + route.path).replace(/\{(\w+)\}/g, ":$1");
    app.on(route.method.toUpperCase(), honoPath, async (c) => {
      const url = new URL(c.req.url);
      const transport: Transport = c.env?.transport ?? { kind: "tcp", remoteAddr: "unknown" };
      const peerHeader = transport.kind === "tcp" ? c.req.header("x-safekit-peer") ?? null : null;
      let caller: Caller;
      // Users are authenticated and authorised before the body is read, so an anonymous caller cannot
      // make the node buffer a large upload; only a cluster peer's signature needs the body.
      if (transport.kind === "local") {
        caller = { kind: "local", user: c.req.header("x-safekit-user") || "root" };
      } else if (!peerHeader) {
        const r = await deps.auth.authenticate(c.req.raw, transport, Date.now());
        if (r.kind === "refused") {
          if (r.clearCookie) c.header("set-cookie", r.clearCookie);
          return c.json({ error: r.message }, r.status);
        }
        caller = r.kind === "user"
          ? { kind: "user", user: r.user, role: r.role, via: r.via, address: transport.remoteAddr }
          : { kind: "anonymous", address: transport.remoteAddr };
        const verdict = deps.auth.authorize(route, caller);
        if (!verdict.ok) return c.json({ error: verdict.message }, verdict.status as 401);
      } else {
        // The signature covers the body, so it is read first: refuse a malformed or stale header before that.
        const problem = peerHeaderProblem(peerHeader, Date.now());
        if (problem) return c.json({ error: `refused: ${problem}` }, 403);
        caller = { kind: "anonymous", address: transport.remoteAddr }; // replaced once the signature is checked
      }
      // A JSON route only takes JSON over the network: an HTML form (text/plain, urlencoded) cannot pose as one.
      if (transport.kind === "tcp") {
        const problem = contentTypeProblem(route, c.req.raw);
        if (problem) return c.json({ error: problem }, 415);
      }
      let body: Uint8Array;
      try {
        body = await readBounded(c.req.raw, maxBodyBytesOf(route));
      } catch (e) {
        return c.json({ error: (e as Error).message }, 413);
      }
      if (peerHeader && transport.kind === "tcp") {
        const v = await deps.verifyPeer(peerHeader, c.req.method, url.pathname + url.search, body);
        if (!v.ok) return c.json({ error: `refused: ${v.reason}` }, 403);
        caller = { kind: "peer", node: v.node, address: transport.remoteAddr };
      }
      const req: ApiRequest = {
        params: c.req.param() as Record<string, string>,
        query: Object.fromEntries(url.searchParams),
        body,
        caller,
        json<T>() {
          try {
            return JSON.parse(new TextDecoder().decode(body)) as T;
          } catch (e) {
            throw new NodeError(`request body is not valid JSON: ${(e as Error).message}`);
          }
        },
        text: () => new TextDecoder().decode(body),
      };
      // Only the CLI and cluster nodes describe their own command; a user's entry is what was really called.
      const described = caller.kind === "local" || caller.kind === "peer"
        ? c.req.header("x-safekit-command")
        : "";
      const end = route.mutates
        ? deps.recordCommand(caller, described || `${c.req.method} ${url.pathname}`)
        : null;
      try {
        const result = await route.handler(req);
        end?.(0);
        if ("json" in result) return c.json(result.json as object, (result.status ?? 200) as 200);
        if ("text" in result) {
          return new Response(result.text, {
            status: result.status ?? 200,
            headers: { "content-type": result.contentType ?? "text/plain; charset=utf-8" },
          });
        }
        if ("stream" in result) {
          return new Response(result.stream, {
            headers: {
              "content-type": result.contentType,
              "cache-control": "no-store",
              "x-accel-buffering": "no",
            },
          });
        }
        const h: Record<string, string> = { "content-type": result.contentType };
        if (result.filename) h["content-disposition"] = `attachment; filename="${result.filename}"`;
        return new Response(result.bytes as BodyInit, { status: 200, headers: h });
      } catch (e) {
        end?.(1);
        if (e instanceof NodeError) return c.json({ error: e.message, code: e.code }, e.status as 400);
        const known = e as { name?: string; message?: string };
        if (
          known?.name === "ConfigError" || known?.name === "SafeArchiveError" ||
          known?.name === "FailoverRuleError"
        ) {
          return c.json({ error: String(known.message).replace(/^Error: /, ""), code: known.name }, 400);
        }
        console.error(e);
        return c.json({ error: `internal error: ${(e as Error)?.message ?? e}` }, 500);
      }
    });
  }
  app.notFound((c) =>
    c.json({ error: `no such endpoint: ${c.req.method} ${new URL(c.req.url).pathname}` }, 404)
  );
  return app;
}

/**
 * Headers every answer carries, whoever built it: no MIME sniffing (a JSON error is never run as a script),
 * no framing (clickjacking on the console's buttons), no full URL leaked to other sites, no caching unless
 * the route allowed it. A page that sets its own Content-Security-Policy keeps it, with framing forbidden
 * added; any other answer gets one that lets nothing load, as an API answer shown in a browser needs nothing.
 */
export function addSecurityHeaders(h: Headers): void {
  if (!h.has("x-content-type-options")) h.set("x-content-type-options", "nosniff");
  if (!h.has("x-frame-options")) h.set("x-frame-options", "DENY");
  if (!h.has("referrer-policy")) h.set("referrer-policy", "same-origin");
  // Answers are per caller (sessions, roles): no cache may keep one unless its route said it can.
  if (!h.has("cache-control")) h.set("cache-control", "no-store");
  const csp = h.get("content-security-policy");
  if (csp === null) h.set("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
  else if (!/frame-ancestors/.test(csp)) h.set("content-security-policy", `${csp}; frame-ancestors 'none'`);
}

/** Null when the request's Content-Type suits the route; a body-less request always suits. */
function contentTypeProblem(route: Route, req: Request): string | null {
  if (route.requestBody !== "json" && route.requestBody !== "text") return null;
  const length = req.headers.get("content-length");
  if (!req.body || length === "0") return null;
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const ok = route.requestBody === "json"
    ? type === "application/json" || /^application\/[\w.+-]+\+json$/.test(type)
    : type.startsWith("text/") || type === "application/xml";
  if (ok) return null;
  const wanted = route.requestBody === "json" ? "application/json" : "text/plain or application/xml";
  return `unsupported Content-Type '${type || "(none)"}' for ${req.method} ${new URL(req.url).pathname}: ` +
    `send ${wanted}`;
}

async function readBounded(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) throw new Error(`request body too large (${declared} bytes, at most ${max})`);
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req.body) {
    total += chunk.length;
    if (total > max) throw new Error(`request body too large (more than ${max} bytes)`);
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const ch of chunks) {
    out.set(ch, off);
    off += ch.length;
  }
  return out;
}

export { callerLabel };
