// The web service in HTTPS mode (spec §9.1): the app on port 9453 with server.crt/server.key, and port
// 9010 answering only with a redirect to https://<host>:9453 with the same path and query (HTTP and HTTPS
// are never both serving the app). HTTPS mode is on when SAFE/web/conf/server.crt and server.key exist.
//
// TLS versions: both listeners negotiate TLS 1.3 with any current client, but neither can refuse TLS 1.2 in
// Deno 2.9.6: Deno.serve (rustls) has no version option, and node:https under Deno accepts `minVersion`
// and ignores it (checked with `openssl s_client -tls1_2`). rustls offers only AEAD, forward-secret suites
// for 1.2, so this is acceptable; put a proxy in front if a policy demands 1.3 only.
// Client certificates: Deno.serve cannot ask for them (reference/deno-stack-verification.md §2). When
// distributed commands authenticate with user_Admin_<host> certificates, serve 9453 with
// serveHttpsWithClientCerts (node:https, HTTP/1.1) instead: the handler receives the verified identity.
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { clientCertIdentity } from "./pki/client_cert.ts";
import type { Role } from "./pki/roles.ts";
import { normalizeIp } from "./pki/san.ts";
import type { ServerTls } from "./pki/store.ts";

export const HTTPS_PORT = 9453;
export const HTTP_PORT = 9010;

export type ServeHttpsOptions = {
  readonly hostname: string;
  readonly port?: number;
  readonly tls: ServerTls;
  readonly handler: (req: Request, remoteAddr: string) => Response | Promise<Response>;
};

/** The app over HTTPS with Deno.serve (HTTP/2 and HTTP/1.1 by ALPN). Throws when the bind fails. */
export function serveHttps(opts: ServeHttpsOptions): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    {
      hostname: opts.hostname,
      port: opts.port ?? HTTPS_PORT,
      cert: opts.tls.cert,
      key: opts.tls.key,
      onListen() {},
    },
    (req, info) => opts.handler(req, info.remoteAddr.hostname),
  );
}

/** What the TLS layer established about the client's certificate. */
export type PeerCertificate =
  | { readonly kind: "none" }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "verified"; readonly name: string; readonly role: Role };

export type ServeWithClientCertsOptions = {
  readonly hostname: string;
  readonly port?: number;
  readonly tls: ServerTls;
  /** cacert.crt: client certificates must chain to it. */
  readonly caPem: string;
  readonly handler: (req: Request, remoteAddr: string, peer: PeerCertificate) => Response | Promise<Response>;
};

export type ClientCertServer = { readonly port: number; close(): Promise<void> };

/**
 * The app over HTTPS through node:https, asking for a client certificate without requiring one: browsers
 * log in with a password, distributed commands present user_Admin_<host>. The handler must only trust
 * `peer.kind === "verified"`.
 */
export function serveHttpsWithClientCerts(opts: ServeWithClientCertsOptions): Promise<ClientCertServer> {
  const listener = getRequestListener((req, env) => {
    const socket = (env as HttpBindings).incoming.socket as TLSSocket;
    return opts.handler(req, socket.remoteAddress ?? "unknown", peerCertificateOf(socket));
  });
  const server = https.createServer({
    key: opts.tls.key,
    cert: opts.tls.cert,
    ca: opts.caPem,
    requestCert: true,
    rejectUnauthorized: false,
    // Ignored by Deno 2.9.6 (TLS 1.2 still accepted); kept so that a runtime honouring it enforces 1.3.
    minVersion: "TLSv1.3",
  }, listener);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? HTTPS_PORT, opts.hostname, () => {
      server.off("error", reject);
      const addr = server.address();
      resolve({
        port: typeof addr === "object" && addr ? addr.port : opts.port ?? HTTPS_PORT,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

function peerCertificateOf(socket: TLSSocket): PeerCertificate {
  const cert = socket.getPeerCertificate?.();
  if (!cert || !cert.raw) return { kind: "none" };
  if (!socket.authorized) {
    return { kind: "refused", reason: String(socket.authorizationError ?? "not authorized") };
  }
  let id: ReturnType<typeof clientCertIdentity>;
  try {
    id = clientCertIdentity(new Uint8Array(cert.raw));
  } catch (e) {
    return { kind: "refused", reason: `unreadable client certificate: ${(e as Error).message}` };
  }
  return id ? { kind: "verified", name: id.name, role: id.role } : {
    kind: "refused",
    reason: "the client certificate names no role (OU=Admin|Control|Monitor)",
  };
}

export type RedirectOptions = {
  readonly httpsPort?: number;
  /**
   * Hosts the redirect may send a client to: the server certificate's names. The Host header is the
   * client's to choose; echoing any value would make port 9010 an open redirect.
   */
  readonly knownHosts: readonly string[];
  /** Where to send clients whose Host header is not a known host: the node's own address. */
  readonly fallbackHost: string;
};

/** https://<host>:9453<same path and query>; 301 for GET/HEAD, 308 otherwise so a POST stays a POST. */
export function httpsRedirectFor(req: Request, opts: RedirectOptions): Response {
  const url = new URL(req.url);
  const requested = hostOfHeader(req.headers.get("host")) ?? url.hostname;
  const known = opts.knownHosts.map(canonicalHost);
  const host = known.includes(canonicalHost(requested))
    ? canonicalHost(requested)
    : canonicalHost(opts.fallbackHost);
  const shown = host.includes(":") ? `[${host}]` : host;
  const location = `https://${shown}:${opts.httpsPort ?? HTTPS_PORT}${url.pathname}${url.search}`;
  const status = req.method === "GET" || req.method === "HEAD" ? 301 : 308;
  return new Response(null, { status, headers: { location } });
}

function canonicalHost(h: string): string {
  return normalizeIp(h) ?? h.toLowerCase().replace(/\.$/, "");
}

function hostOfHeader(header: string | null): string | null {
  if (!header) return null;
  const m = /^\[([^\]]+)\](:\d+)?$/.exec(header) ?? /^([^:]+)(:\d+)?$/.exec(header);
  return m ? m[1] : null;
}

export type ServeRedirectOptions = RedirectOptions & {
  readonly hostname: string;
  readonly port?: number;
  /**
   * Requests still answered over plain HTTP, e.g. the health probe /var/modules/<AM>/ready.txt: cloud load
   * balancers probe http://node:9010 and most do not follow redirects.
   */
  readonly keepOnHttp?: {
    match(pathname: string): boolean;
    handler(req: Request, remoteAddr: string): Response | Promise<Response>;
  };
};

/** The port 9010 listener of HTTPS mode. */
export function serveHttpRedirect(opts: ServeRedirectOptions): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: opts.hostname, port: opts.port ?? HTTP_PORT, onListen() {} }, (req, info) => {
    const keep = opts.keepOnHttp;
    if (keep?.match(new URL(req.url).pathname)) return keep.handler(req, info.remoteAddr.hostname);
    return httpsRedirectFor(req, opts);
  });
}
