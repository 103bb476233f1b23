// The setup-time CA service (SafeKit's safecaserv, spec §9.1): HTTPS on port 9001 of the CA node, open only
// between `startcaserv` and `stopcaserv`. Other nodes' `initssl req` send it their certificate requests:
//   POST /caserv   form action=signrequest, name=<name>, servercsr=<PEM> | usercsr=<PEM>
//                  Authorization: Basic CA_admin:<password>      -> 200, the signed certificate (PEM)
//   GET /certs/<name>.crt                                      -> an issued certificate; cacert.crt = the CA
// The CA_admin password given at startcaserv is kept only as a scrypt hash in memory. The caller is
// authenticated before the body is read, and bodies are bounded, so an anonymous caller costs one scrypt.
import { hashPassword, verifyPassword } from "../auth/password_hash.ts";
import { type CertificateAuthority, CsrError, signCsr } from "./ca.ts";
import { parseUserCertName } from "./client_cert.ts";
import { makeKeyAndRequest } from "./csr.ts";
import { fingerprintSha256 } from "./keys.ts";
import { sanEntryFor, uniqueSans } from "./san.ts";
import { certNameProblem, type PkiFiles, writeCertificate } from "./store.ts";
import { readPem } from "./store.ts";

export const CA_SERVICE_PORT = 9001;
export const CA_ADMIN_USER = "CA_admin";
/** A request is one PEM CSR plus a few fields: a few KiB. */
export const MAX_CA_REQUEST_BYTES = 64 * 1024;
/** The service stops by itself after this long, so a forgotten startcaserv does not leave the CA open. */
export const DEFAULT_CA_SERVICE_LIFETIME_MS = 2 * 60 * 60 * 1000;
// Password checks cost ~100 ms of scrypt each; beyond this many at once the caller is told to come back.
const MAX_CONCURRENT_AUTH = 4;

export type CaHandlerDeps = {
  readonly ca: CertificateAuthority;
  readonly files: PkiFiles;
  /** scrypt hash of the CA_admin password ($scrypt$...), from hashPassword. */
  readonly passwordHash: string;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
};

/** The CA service as a plain fetch handler (served over HTTPS by startCaService). */
export function caServiceHandler(deps: CaHandlerDeps): (req: Request) => Promise<Response> {
  let authInFlight = 0;
  const log = deps.log ?? (() => {});
  return async (req) => {
    const url = new URL(req.url);
    const cert = /^\/certs\/([^/]+)\.crt$/.exec(url.pathname);
    if (cert && (req.method === "GET" || req.method === "HEAD")) return await serveCertificate(deps, cert[1]);
    if (url.pathname !== "/caserv") return text(404, `no such endpoint: ${req.method} ${url.pathname}\n`);
    if (req.method !== "POST") return text(405, "use POST /caserv\n");
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (!(declared <= MAX_CA_REQUEST_BYTES)) {
      return text(413, `request body too large (${declared} bytes, at most ${MAX_CA_REQUEST_BYTES})\n`);
    }
    if (authInFlight >= MAX_CONCURRENT_AUTH) {
      return text(429, "too many requests at once, retry in a second\n");
    }
    authInFlight++;
    let authorized: boolean;
    try {
      authorized = await checkBasicAuth(req.headers.get("authorization"), deps.passwordHash);
    } finally {
      authInFlight--;
    }
    if (!authorized) {
      log(`refused a request from an unauthenticated caller (${CA_ADMIN_USER} password wrong or missing)`);
      await req.body?.cancel().catch(() => {});
      return new Response(
        `authentication required: user ${CA_ADMIN_USER} and the password given to startcaserv\n`,
        {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="safecaserv"', "content-type": "text/plain" },
        },
      );
    }
    let body: string;
    try {
      body = await readBoundedText(req, MAX_CA_REQUEST_BYTES);
    } catch (e) {
      return text(413, `${(e as Error).message}\n`);
    }
    return await signRequest(deps, new URLSearchParams(body), log);
  };
}

async function serveCertificate(deps: CaHandlerDeps, name: string): Promise<Response> {
  if (name === "cacert") return pem(deps.ca.certPem);
  if (certNameProblem(name)) return text(400, `${certNameProblem(name)}\n`);
  const found = await readPem(deps.files.issuedCert(name));
  return found === null ? text(404, `no certificate named ${name}\n`) : pem(found);
}

async function signRequest(deps: CaHandlerDeps, form: URLSearchParams, log: (l: string) => void) {
  const action = form.get("action");
  if (action !== "signrequest") return text(400, `unknown action '${action ?? ""}' (expected signrequest)\n`);
  const name = form.get("name") ?? "";
  const nameProblem = certNameProblem(name);
  if (nameProblem) return text(400, `${nameProblem}\n`);
  const serverCsr = form.get("servercsr");
  const userCsr = form.get("usercsr");
  if ((serverCsr === null) === (userCsr === null)) {
    return text(400, "give exactly one of servercsr or usercsr\n");
  }
  let signed: string;
  try {
    if (serverCsr !== null) {
      signed = await signCsr(deps.ca, serverCsr, { kind: "server" }, { now: deps.now?.() });
    } else {
      const user = parseUserCertName(name);
      if (!user) {
        return text(
          400,
          `a user certificate name must be user_<Admin|Control|Monitor>_<host>, not '${name}'\n`,
        );
      }
      signed = await signCsr(deps.ca, userCsr!, { kind: "client", role: user.role }, { now: deps.now?.() });
    }
  } catch (e) {
    if (e instanceof CsrError) return text(400, `${e.message}\n`);
    throw e;
  }
  await writeCertificate(deps.files.issuedCert(name), signed);
  log(`signed ${serverCsr !== null ? "server" : "user"} certificate ${name}`);
  return pem(signed);
}

async function checkBasicAuth(header: string | null, passwordHash: string): Promise<boolean> {
  const m = /^Basic ([A-Za-z0-9+/=]{1,2048})$/.exec(header ?? "");
  let user = "", password = "";
  if (m) {
    try {
      const decoded = new TextDecoder().decode(Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)));
      const colon = decoded.indexOf(":");
      if (colon > 0) [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    } catch { /* not base64: refused below */ }
  }
  // The hash is checked even for a wrong user name, so the answer time does not tell which part was wrong.
  const ok = await verifyPassword(password, passwordHash);
  return ok && user === CA_ADMIN_USER;
}

async function readBoundedText(req: Request, max: number): Promise<string> {
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req.body) {
    total += chunk.length;
    if (total > max) throw new Error(`request body too large (more than ${max} bytes)`);
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(out);
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function pem(body: string): Response {
  return new Response(body, { status: 200, headers: { "content-type": "application/x-pem-file" } });
}

export type CaServiceOptions = {
  readonly ca: CertificateAuthority;
  readonly files: PkiFiles;
  /** The CA_admin password; only its hash is kept. */
  readonly password: string;
  /** Address to bind: the CA node's address that the other nodes use in `initssl req https://<it>:9001`. */
  readonly hostname: string;
  readonly port?: number;
  /** More names and addresses for the service's own certificate (the bind address is always in it). */
  readonly names?: readonly string[];
  readonly lifetimeMs?: number;
  readonly log?: (line: string) => void;
};

export type CaService = {
  readonly port: number;
  /** SHA-256 fingerprint of the CA certificate: printed by startcaserv, compared by initssl req -f. */
  readonly caFingerprint: string;
  /** Resolves when the service has stopped (stop() or its lifetime ran out). */
  readonly finished: Promise<void>;
  stop(): Promise<void>;
};

/**
 * Starts the CA service over HTTPS. Its certificate is issued by the CA itself, in memory, for the bind
 * address and `names`, so a node holding cacert.crt can verify it is talking to the CA service.
 */
export async function startCaService(opts: CaServiceOptions): Promise<CaService> {
  const passwordHash = await hashPassword(opts.password);
  const sans = uniqueSans([opts.hostname, ...opts.names ?? []].map(sanEntryFor));
  const own = await makeKeyAndRequest(opts.hostname.toLowerCase(), sans, opts.ca.kind);
  const ownCert = await signCsr(opts.ca, own.csrPem, { kind: "server" });
  const handler = caServiceHandler({ ca: opts.ca, files: opts.files, passwordHash, log: opts.log });
  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port ?? CA_SERVICE_PORT,
    cert: ownCert + opts.ca.certPem,
    key: own.keyPem,
    onListen() {},
  }, async (req) => {
    try {
      return await handler(req);
    } catch (e) {
      opts.log?.(`internal error: ${(e as Error).message}`);
      return text(500, "internal error\n");
    }
  });
  const timer = setTimeout(() => {
    opts.log?.("CA service lifetime over: stopping");
    server.shutdown();
  }, opts.lifetimeMs ?? DEFAULT_CA_SERVICE_LIFETIME_MS);
  Deno.unrefTimer(timer);
  const finished = server.finished.then(() => clearTimeout(timer));
  return {
    port: server.addr.port,
    caFingerprint: await fingerprintSha256(opts.ca.certPem),
    finished,
    stop: async () => {
      clearTimeout(timer);
      await server.shutdown();
    },
  };
}
