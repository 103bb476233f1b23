// The node service's HTTP app exactly as the daemon builds it (NodeService: every route table, the auth
// routes, the console, Swagger UI, the probe), on temporary SAFE/SAFEVAR roots, with one user per role.
// Requests go through `app.fetch` with a TCP transport, as Deno.serve would hand them over; no port is
// bound, so the sweep does not contend with other tests.
import { join } from "node:path";
import { NodeService } from "../../../src/daemon/node_service.ts";
import { nodePaths } from "../../../src/platform/node_paths.ts";
import { FileUserStore, usersFilePath } from "../../../src/web/auth/mod.ts";

export const PASSWORDS = {
  admin: "admin-secret-1",
  ctl: "control-secret-2",
  mon: "monitor-secret-3",
} as const;
export type TestUser = keyof typeof PASSWORDS;
export const ORIGIN = "http://127.0.0.51:9010";
export const CLIENT = "192.0.2.10";

export type Credentials = { readonly cookie: string; readonly csrf: string };

export type NodeAppFixture = {
  readonly service: NodeService;
  readonly root: string;
  fetch(path: string, init?: RequestInit, remoteAddr?: string, tls?: boolean): Promise<Response>;
  login(user: string, password: string, remoteAddr?: string): Promise<Response>;
  session(user: TestUser): Promise<Credentials>;
  cleanup(): Promise<void>;
};

export async function makeNodeApp(): Promise<NodeAppFixture> {
  const root = await Deno.makeTempDir({ prefix: "safekit-sec-" });
  const paths = nodePaths(join(root, "safe"), join(root, "var"));
  for (const d of [paths.safe, paths.safevar, paths.clusterDir, join(paths.safevar, "run")]) {
    await Deno.mkdir(d, { recursive: true });
  }
  const store = new FileUserStore(usersFilePath(paths.safe));
  await store.setPassword("admin", PASSWORDS.admin);
  await store.setPassword("ctl", PASSWORDS.ctl, { role: "Control" });
  await store.setPassword("mon", PASSWORDS.mon, { role: "Monitor" });
  const service = new NodeService({ paths, log: () => {} });
  const fetch = async (path: string, init: RequestInit = {}, remoteAddr = CLIENT, tls = false) =>
    await service.app.fetch(new Request((tls ? ORIGIN.replace("http:", "https:") : ORIGIN) + path, init), {
      transport: { kind: "tcp", remoteAddr, tls },
    });
  const login = (user: string, password: string, remoteAddr = CLIENT) =>
    fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ httpd_username: user, httpd_password: password }).toString(),
    }, remoteAddr);
  const sessions = new Map<TestUser, Credentials>();
  return {
    service,
    root,
    fetch,
    login,
    async session(user) {
      const known = sessions.get(user);
      if (known) return known;
      const res = await login(user, PASSWORDS[user]);
      if (res.status !== 200) throw new Error(`login of ${user} failed: ${res.status} ${await res.text()}`);
      const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
      const creds = { cookie, csrf: (await res.json()).csrfToken as string };
      sessions.set(user, creds);
      return creds;
    },
    async cleanup() {
      service.commandLog.close();
      service.registry.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}
