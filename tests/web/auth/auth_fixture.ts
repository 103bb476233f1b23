// A node's auth on a temporary SAFE root, with one user per role and a clock the test moves by hand.
import {
  authRoutes,
  type AuthService,
  createFileAuthService,
  FileUserStore,
  usersFilePath,
} from "../../../src/web/auth/mod.ts";

export const PASSWORDS = { admin: "admin-secret-1", ctl: "control-secret-2", mon: "monitor-secret-3" };
export const ORIGIN = "http://node1:9010";

export type Fixture = {
  safe: string;
  auth: AuthService;
  app: ReturnType<typeof authRoutes>;
  clock: { now: number };
  request(path: string, init?: RequestInit, remoteAddr?: string): Promise<Response>;
  login(user: string, password: string, remoteAddr?: string): Promise<Response>;
  cleanup(): Promise<void>;
};

export async function makeFixture(options: { users?: boolean } = {}): Promise<Fixture> {
  const safe = await Deno.makeTempDir({ prefix: "safekit-auth-" });
  if (options.users !== false) {
    const store = new FileUserStore(usersFilePath(safe));
    await store.setPassword("admin", PASSWORDS.admin);
    await store.setPassword("ctl", PASSWORDS.ctl, { role: "Control" });
    await store.setPassword("mon", PASSWORDS.mon, { role: "Monitor" });
  }
  const clock = { now: Date.UTC(2026, 0, 1) };
  const auth = createFileAuthService({ safe, log: () => {} });
  const app = authRoutes(auth, () => clock.now);
  const request = (path: string, init: RequestInit = {}, remoteAddr = "192.0.2.10") =>
    Promise.resolve(app.request(ORIGIN + path, init, { transport: { kind: "tcp", remoteAddr } }));
  return {
    safe,
    auth,
    app,
    clock,
    request,
    login: (user, password, remoteAddr) =>
      request("/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ httpd_username: user, httpd_password: password, login: "Login" })
          .toString(),
      }, remoteAddr),
    cleanup: () => Deno.remove(safe, { recursive: true }),
  };
}

/** The sessionSK value set by a response. */
export function sessionIdOf(res: Response): string {
  const m = /sessionSK=([^;]*)/.exec(res.headers.get("set-cookie") ?? "");
  if (!m) throw new Error("no sessionSK cookie in the response");
  return m[1];
}

/** Logs in and returns what a browser would then send: the cookie and the CSRF token. */
export async function session(f: Fixture, user: keyof typeof PASSWORDS) {
  const res = await f.login(user, PASSWORDS[user]);
  if (res.status !== 200) throw new Error(`login of ${user} failed: ${res.status} ${await res.text()}`);
  const body = await res.json();
  return { cookie: `sessionSK=${sessionIdOf(res)}`, csrf: body.csrfToken as string };
}
