// Who is calling, and may they call this route. The node service asks `authenticate` for every request
// that reached it over TCP (the local control socket and cluster-key-signed peers are recognised before,
// by app.ts), then `authorize` with the route's flags. The Hono handlers for /login, /logout, whoami and
// API keys are built here too, so the whole user-facing auth lives in one folder.
import { Hono } from "hono";
import type { Context } from "hono";
import type { AuthProvider } from "./auth_provider.ts";
import { ApiKeyError, type ApiKeyStore } from "./api_keys.ts";
import { csrfProblem, isStateChanging, originProblem } from "./csrf.ts";
import type { LoginThrottle } from "./login_throttle.ts";
import { parseRole, requiredRoleOf, type Role, roleAllows, type RouteAccess } from "./roles.ts";
import {
  clearedSessionCookie,
  expiredMessage,
  readCookie,
  type Session,
  SESSION_COOKIE,
  sessionCookie,
  type SessionStore,
} from "./sessions.ts";

/** Structurally the `Transport` of app.ts, plus whether the TCP connection is TLS. */
export type AuthTransport =
  | { readonly kind: "local" }
  | { readonly kind: "tcp"; readonly remoteAddr: string; readonly tls?: boolean };

export type AuthenticatedUser = {
  readonly kind: "user";
  readonly user: string;
  readonly role: Role;
  readonly via: "session" | "bearer";
};

export type AuthResult =
  | AuthenticatedUser
  | { readonly kind: "anonymous" }
  | {
    readonly kind: "refused";
    readonly status: 401 | 403;
    readonly message: string;
    /** A Set-Cookie value that removes a dead session cookie from the browser, when there was one. */
    readonly clearCookie?: string;
  };

/** Every kind of caller the API knows: app.ts's Caller plus authenticated users. */
export type AuthCaller =
  | AuthenticatedUser
  | { readonly kind: "local"; readonly user: string }
  | { readonly kind: "peer"; readonly node: string; readonly address?: string }
  | { readonly kind: "anonymous"; readonly address?: string };

export type Authorization =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

export type AuthPolicy = {
  /**
   * Whether read-only routes answer unauthenticated callers. Off by default (secure by default): only the
   * health probe, served outside the route table, stays open.
   */
  readonly allowAnonymousRead?: boolean;
};

/**
 * The rule: the local CLI (root on this machine) and cluster nodes holding the cluster key may call
 * anything; a user needs the route's role; nobody else gets in.
 */
export function authorize(route: RouteAccess, caller: AuthCaller, policy: AuthPolicy = {}): Authorization {
  switch (caller.kind) {
    case "local":
    case "peer":
      return { ok: true };
    case "anonymous":
      if (!route.mutates && policy.allowAnonymousRead) return { ok: true };
      return {
        ok: false,
        status: 401,
        message: "authentication required: log in (POST /login with httpd_username and httpd_password) " +
          "or send 'Authorization: Bearer <API key>'",
      };
    case "user": {
      const needed = requiredRoleOf(route);
      if (roleAllows(caller.role, needed)) return { ok: true };
      return {
        ok: false,
        status: 403,
        message: `refused: '${caller.user}' has role ${caller.role}; this call needs ${needed}` +
          (needed === "Admin" ? " (configuration)" : needed === "Control" ? " (module actions)" : ""),
      };
    }
  }
}

export type AuthServiceDeps = {
  readonly provider: AuthProvider;
  readonly sessions: SessionStore;
  readonly throttle: LoginThrottle;
  readonly apiKeys: ApiKeyStore;
  /** Other origins whose pages may call this node with a session (e.g. a console served by a proxy). */
  readonly trustedOrigins?: readonly string[];
  readonly policy?: AuthPolicy;
  readonly log?: (message: string) => void;
};

const MAX_LOGIN_BODY = 16 * 1024;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

export class AuthService {
  constructor(readonly deps: AuthServiceDeps) {}

  /** Identifies a TCP caller by bearer key or session cookie; checks CSRF on state-changing session calls. */
  async authenticate(req: Request, transport: AuthTransport, now: number): Promise<AuthResult> {
    const authz = req.headers.get("authorization");
    if (authz !== null && /^bearer\b/i.test(authz)) {
      const m = BEARER.exec(authz);
      const key = m ? await this.deps.apiKeys.verify(m[1]) : null;
      if (!key) {
        return {
          kind: "refused",
          status: 401,
          message: "invalid or deleted API key (Authorization: Bearer)",
        };
      }
      return { kind: "user", user: `apikey:${key.name}`, role: key.role, via: "bearer" };
    }
    const id = readCookie(req.headers.get("cookie"), SESSION_COOKIE);
    if (id === null || id === "") return { kind: "anonymous" };
    const found = this.deps.sessions.use(id, now);
    if (found.kind !== "valid") {
      return {
        kind: "refused",
        status: 401,
        message: expiredMessage(found, this.deps.sessions.limits),
        clearCookie: clearedSessionCookie(isSecure(req, transport)),
      };
    }
    if (isStateChanging(req.method)) {
      const problem = csrfProblem(req, found.session.csrfToken, this.deps.trustedOrigins);
      if (problem) return { kind: "refused", status: 403, message: problem };
    }
    return { kind: "user", user: found.session.user, role: found.session.role, via: "session" };
  }

  authorize(route: RouteAccess, caller: AuthCaller): Authorization {
    return authorize(route, caller, this.deps.policy);
  }

  /** POST /login: SafeKit's form fields httpd_username / httpd_password (a JSON body with them works too). */
  async login(req: Request, transport: AuthTransport, now: number): Promise<Response> {
    const secure = isSecure(req, transport);
    const cross = originProblem(req, this.deps.trustedOrigins);
    if (cross) return json({ error: cross }, 403);
    let fields: { user: string; password: string };
    try {
      fields = await readLoginFields(req);
    } catch (e) {
      return json({ error: (e as Error).message }, e instanceof LoginTooLarge ? 413 : 400);
    }
    const address = transport.kind === "tcp" ? transport.remoteAddr : "local";
    const { throttle } = this.deps;
    const verdict = throttle.check(fields.user, address, now);
    if (!verdict.ok) return tooMany(verdict.message, verdict.status, verdict.retryAfterMs);
    const release = throttle.begin(fields.user);
    if (typeof release !== "function") {
      return tooMany(release.ok ? "" : release.message, release.ok ? 429 : release.status, 1000);
    }
    let result;
    try {
      result = await this.deps.provider.verifyPassword(fields.user, fields.password);
    } finally {
      release();
    }
    if (!result.ok) {
      if (result.reason === "bad-credentials") {
        throttle.recordFailure(fields.user, address, now);
        this.deps.log?.(`login failed for '${fields.user.slice(0, 64)}' from ${address}`);
      }
      // The password was right but no role follows from it: say so (403), it is no guess to slow down.
      const status = result.reason === "unavailable" ? 503 : result.reason === "no-role" ? 403 : 401;
      return json({ error: result.message }, status);
    }
    throttle.recordSuccess(fields.user, address);
    const session = this.openSession(result.user, result.role, now);
    return json(this.sessionInfo(session), 200, { "set-cookie": sessionCookie(session.id, secure) });
  }

  /** Starts a session for an identity a provider has vouched for (also the end of a future OpenID flow). */
  openSession(user: string, role: Role, now: number): Session {
    return this.deps.sessions.create(user, role, now);
  }

  /** POST /logout: ends the session named by the cookie, if any, and removes the cookie. */
  logout(req: Request, transport: AuthTransport): Response {
    const secure = isSecure(req, transport);
    const cross = originProblem(req, this.deps.trustedOrigins);
    if (cross) return json({ error: cross }, 403);
    const id = readCookie(req.headers.get("cookie"), SESSION_COOKIE);
    const ended = id ? this.deps.sessions.delete(id) : false;
    return json({ ok: true, ended }, 200, { "set-cookie": clearedSessionCookie(secure) });
  }

  sessionInfo(s: Session) {
    return {
      user: s.user,
      role: s.role,
      via: "session",
      csrfToken: s.csrfToken,
      expiresAt: new Date(this.deps.sessions.expiresAt(s)).toISOString(),
      idleTimeoutSeconds: this.deps.sessions.limits.idleMs / 1000,
    };
  }
}

function isSecure(req: Request, transport: AuthTransport): boolean {
  if (transport.kind === "tcp" && transport.tls) return true;
  return new URL(req.url).protocol === "https:";
}

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

function tooMany(message: string, status: number, retryAfterMs: number): Response {
  return json({ error: message }, status, { "retry-after": String(Math.ceil(retryAfterMs / 1000)) });
}

class LoginTooLarge extends Error {}

async function readLoginFields(req: Request): Promise<{ user: string; password: string }> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_LOGIN_BODY) {
    throw new LoginTooLarge(`login form too large (at most ${MAX_LOGIN_BODY} bytes)`);
  }
  // Read chunk by chunk: a body without Content-Length must not be buffered whole before it is refused.
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req.body ?? []) {
    total += chunk.length;
    if (total > MAX_LOGIN_BODY) {
      throw new LoginTooLarge(`login form too large (at most ${MAX_LOGIN_BODY} bytes)`);
    }
    chunks.push(chunk);
  }
  const decoder = new TextDecoder();
  const text = chunks.map((c, i) => decoder.decode(c, { stream: i < chunks.length - 1 })).join("");
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  let user: unknown, password: unknown;
  if (type === "application/json") {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text);
    } catch {
      throw new Error("login body is not valid JSON");
    }
    user = o?.httpd_username;
    password = o?.httpd_password;
  } else if (type === "application/x-www-form-urlencoded" || type === "") {
    const form = new URLSearchParams(text);
    user = form.get("httpd_username");
    password = form.get("httpd_password");
  } else {
    throw new Error(`unsupported login body '${type}' (send application/x-www-form-urlencoded)`);
  }
  if (typeof user !== "string" || user === "" || typeof password !== "string") {
    throw new Error("login needs the fields httpd_username and httpd_password");
  }
  return { user, password };
}

type AuthEnv = { Bindings: { transport?: AuthTransport } };

/**
 * /login, /logout, whoami and API key management, to mount on the node's Hono app:
 * `app.route("/", authRoutes(auth))`. API keys are managed by an Admin with a session (or the local CLI),
 * never with another API key: a leaked key must not be able to mint more.
 */
export function authRoutes(auth: AuthService, clock: () => number = Date.now): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const transportOf = (c: Context<AuthEnv>): AuthTransport =>
    c.env?.transport ?? { kind: "tcp", remoteAddr: "unknown" };

  app.post("/login", (c) => auth.login(c.req.raw, transportOf(c), clock()));
  app.post("/logout", (c) => auth.logout(c.req.raw, transportOf(c)));

  for (const prefix of ["/api/v1", "/api/v1.0"]) {
    app.get(`${prefix}/auth/whoami`, async (c) => {
      const t = transportOf(c);
      if (t.kind === "local") return json({ user: "root", role: "Admin", via: "local" }, 200);
      const r = await auth.authenticate(c.req.raw, t, clock());
      if (r.kind === "refused") return refusedResponse(r);
      if (r.kind === "anonymous") return json({ error: "not logged in" }, 401);
      if (r.via === "session") {
        const id = readCookie(c.req.header("cookie") ?? null, SESSION_COOKIE)!;
        const found = auth.deps.sessions.use(id, clock());
        if (found.kind === "valid") return json(auth.sessionInfo(found.session), 200);
      }
      return json({ user: r.user, role: r.role, via: r.via }, 200);
    });

    app.get(`${prefix}/apikey`, async (c) => {
      const who = await keyManager(auth, c.req.raw, transportOf(c), clock(), false);
      if (who instanceof Response) return who;
      return json(await auth.deps.apiKeys.list(), 200);
    });

    app.post(`${prefix}/apikey/:role/:name`, async (c) => {
      const who = await keyManager(auth, c.req.raw, transportOf(c), clock(), true);
      if (who instanceof Response) return who;
      const role = parseRole(c.req.param("role"));
      if (!role) {
        return json({ error: `unknown role '${c.req.param("role")}' (Admin, Control or Monitor)` }, 400);
      }
      try {
        const { token, key } = await auth.deps.apiKeys.create(
          role,
          c.req.param("name"),
          who,
          new Date(clock()),
        );
        return json({ ...key, token, note: "the token is shown only once: store it now" }, 201);
      } catch (e) {
        return keyError(e);
      }
    });

    app.delete(`${prefix}/apikey/:role/:name`, async (c) => {
      const who = await keyManager(auth, c.req.raw, transportOf(c), clock(), true);
      if (who instanceof Response) return who;
      const role = parseRole(c.req.param("role"));
      if (!role) {
        return json({ error: `unknown role '${c.req.param("role")}' (Admin, Control or Monitor)` }, 400);
      }
      try {
        await auth.deps.apiKeys.delete(role, c.req.param("name"));
        return json({ ok: true }, 200);
      } catch (e) {
        return keyError(e);
      }
    });
  }
  return app;
}

/** The name of whoever may manage API keys here, or the refusal as a response. */
async function keyManager(
  auth: AuthService,
  req: Request,
  transport: AuthTransport,
  now: number,
  mutates: boolean,
): Promise<string | Response> {
  if (transport.kind === "local") return "root";
  const r = await auth.authenticate(req, transport, now);
  if (r.kind === "refused") return refusedResponse(r);
  if (r.kind === "user" && r.via === "bearer") {
    return json({ error: "refused: API keys are managed from an Admin session or the local CLI" }, 403);
  }
  const verdict = auth.authorize(
    { mutates, requiredRole: "Admin" },
    r.kind === "user" ? r : { kind: "anonymous" },
  );
  if (!verdict.ok) return json({ error: verdict.message }, verdict.status);
  return (r as AuthenticatedUser).user;
}

function refusedResponse(r: Extract<AuthResult, { kind: "refused" }>): Response {
  return json({ error: r.message }, r.status, r.clearCookie ? { "set-cookie": r.clearCookie } : {});
}

function keyError(e: unknown): Response {
  if (e instanceof ApiKeyError) return json({ error: e.message }, e.status);
  throw e;
}
