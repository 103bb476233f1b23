// `initssl sca | req | rca`, `makeusercert`, `rmcerts` (spec §9.1): the steps that put a node in HTTPS
// mode with the SafeKit PKI. Private keys are generated on the node that uses them; only requests and
// certificates travel. Each step verifies what it got before installing it, then runs checkcert.
import https from "node:https";
import type { ClusterConfig } from "../../config/mod.ts";
import { type CertificateAuthority, createCa, signCsr } from "./ca.ts";
import { CA_ADMIN_USER, MAX_CA_REQUEST_BYTES } from "./ca_service.ts";
import { type CertFinding, checkCert, checkClientCertificate, checkServerCertificate } from "./check_cert.ts";
import { clientKeyAndRequest, userCertName } from "./client_cert.ts";
import { fingerprintSha256, type KeyKind } from "./keys.ts";
import type { Role } from "./roles.ts";
import { serverCertName, serverKeyAndRequest, serverSanEntries } from "./server_cert.ts";
import {
  hasLocalCa,
  installServerCert,
  installUserCert,
  loadLocalCa,
  type PkiFiles,
  removeHttpsFiles,
  saveCa,
  writeCertificate,
} from "./store.ts";
import * as x509 from "@peculiar/x509";

export type NodeIdentity = {
  readonly files: PkiFiles;
  /** Deno.hostname() on a real node. */
  readonly hostname: string;
  readonly cluster?: ClusterConfig;
  /** This node's name in cluster.xml (its addresses go into the server certificate). */
  readonly localNode?: string;
  /** NAT/public names and other hosts used in URLs. */
  readonly extraNames?: readonly string[];
  readonly kind?: KeyKind;
};

export type InitSslResult = {
  readonly ok: boolean;
  readonly lines: readonly string[];
  readonly findings: readonly CertFinding[];
};

export class InitSslError extends Error {
  override name = "InitSslError";
}

/** `initssl sca [subject]`: this node becomes the CA and gets its server and admin client certificates. */
export async function initsslSca(
  node: NodeIdentity,
  opts: { subject?: string; force?: boolean; now?: Date } = {},
): Promise<InitSslResult> {
  if (!opts.force && await hasLocalCa(node.files)) {
    throw new InitSslError(
      `a CA already exists in ${node.files.caDir}: 'initssl rca' reissues this node's certificates, ` +
        `'rmcerts CA' removes the CA`,
    );
  }
  const created = await createCa({ subject: opts.subject, kind: node.kind, now: opts.now });
  await saveCa(node.files, created);
  const ca = (await loadLocalCa(node.files))!;
  const lines = [`created CA '${ca.cert.subject}' (SHA-256 ${await fingerprintSha256(ca.certPem)})`];
  lines.push(...await issueLocally(node, ca, opts.now));
  return await finish(node, lines, opts.now);
}

/** `initssl rca`: on the CA node, reissue this node's certificates (after an address change, say). */
export async function initsslRca(node: NodeIdentity, opts: { now?: Date } = {}): Promise<InitSslResult> {
  const ca = await loadLocalCa(node.files);
  if (!ca) throw new InitSslError(`no CA on this node (${node.files.caKey}): run 'initssl sca' first`);
  await writeCertificate(node.files.cacert, ca.certPem);
  return await finish(node, await issueLocally(node, ca, opts.now), opts.now);
}

async function issueLocally(node: NodeIdentity, ca: CertificateAuthority, now?: Date): Promise<string[]> {
  const server = await serverKeyAndRequest(node, node.kind);
  const serverCert = await signCsr(ca, server.csrPem, { kind: "server" }, { now });
  await writeCertificate(node.files.issuedCert(serverCertName(node.hostname)), serverCert);
  const adminName = userCertName("Admin", node.hostname);
  const admin = await clientKeyAndRequest(adminName, node.kind);
  const adminCert = await signCsr(ca, admin.csrPem, { kind: "client", role: "Admin" }, { now });
  await writeCertificate(node.files.issuedCert(adminName), adminCert);
  await installUserCert(node.files, adminName, adminCert, admin.keyPem);
  await installServerCert(node.files, serverCert, server.keyPem);
  return [
    `installed server certificate for ${serverSanEntries(node).map((s) => s.value).join(", ")}`,
    `installed client certificate ${adminName}`,
  ];
}

/** `makeusercert <name> <Role>` on the CA node: a client certificate for a person, in usercerts/. */
export async function makeUserCert(
  node: NodeIdentity,
  name: string,
  role: Role,
  opts: { now?: Date } = {},
): Promise<{ certPath: string; keyPath: string }> {
  const ca = await loadLocalCa(node.files);
  if (!ca) {
    throw new InitSslError(`no CA on this node (${node.files.caKey}): makeusercert runs on the CA node`);
  }
  const req = await clientKeyAndRequest(name, node.kind);
  const cert = await signCsr(ca, req.csrPem, { kind: "client", role }, { now: opts.now });
  await writeCertificate(node.files.issuedCert(name), cert);
  await installUserCert(node.files, name, cert, req.keyPem);
  return { certPath: node.files.userCert(name), keyPath: node.files.userKey(name) };
}

/** `rmcerts [CA]`: back to HTTP; with CA, the CA key and issued certificates go too. */
export async function rmcerts(files: PkiFiles, opts: { ca: boolean }): Promise<string[]> {
  return await removeHttpsFiles(files, opts);
}

export type ReqOptions = {
  /** https://<CA node>:9001 */
  readonly caUrl: string;
  readonly user?: string;
  readonly password: string;
  /**
   * SHA-256 fingerprint of the CA certificate as printed by startcaserv. Without it the CA certificate is
   * trusted on first use (as SafeKit does) and its fingerprint is printed for the operator to compare.
   */
  readonly fingerprint?: string;
  readonly now?: Date;
};

/**
 * `initssl req https://CA:9001 CA_admin:pwd`: make this node's keys and requests, have the CA service
 * sign them, check the answers, install them with cacert.crt.
 */
export async function initsslReq(node: NodeIdentity, opts: ReqOptions): Promise<InitSslResult> {
  const base = new URL(opts.caUrl);
  if (base.protocol !== "https:") {
    throw new InitSslError(`the CA service URL must be https://, not ${opts.caUrl}`);
  }
  const user = opts.user ?? CA_ADMIN_USER;
  const lines: string[] = [];
  const caPem = await fetchCaCertificate(base);
  const fp = await fingerprintSha256(caPem);
  if (opts.fingerprint && normalizeFingerprint(opts.fingerprint) !== normalizeFingerprint(fp)) {
    throw new InitSslError(
      `the CA at ${base.origin} has fingerprint ${fp}, not the expected ${opts.fingerprint}: nothing installed`,
    );
  }
  lines.push(
    `CA '${new x509.X509Certificate(caPem).subject}' at ${base.origin}, SHA-256 ${fp}` +
      (opts.fingerprint ? " (matches)" : " (compare with the fingerprint printed by startcaserv)"),
  );
  // From here on the CA service must prove it holds a certificate from that CA for the URL's host,
  // before the password is sent.
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    const server = await serverKeyAndRequest(node, node.kind);
    const serverName = serverCertName(node.hostname);
    const serverCert = await askToSign(
      client,
      base,
      user,
      opts.password,
      serverName,
      "servercsr",
      server.csrPem,
    );
    const adminName = userCertName("Admin", node.hostname);
    const admin = await clientKeyAndRequest(adminName, node.kind);
    const adminCert = await askToSign(client, base, user, opts.password, adminName, "usercsr", admin.csrPem);
    const now = opts.now ?? new Date();
    const wanted = serverSanEntries(node).map((s) => s.value);
    const problems = [
      ...await checkServerCertificate({
        certPem: serverCert,
        keyPem: server.keyPem,
        caPem,
        now,
        hosts: wanted,
      }),
      ...await checkClientCertificate(adminName, adminCert, admin.keyPem, caPem, now),
    ].filter((f) => !f.ok);
    if (problems.length) {
      throw new InitSslError(
        `the CA answered certificates that do not check, nothing installed:\n${
          problems.map((p) => p.message).join("\n")
        }`,
      );
    }
    await writeCertificate(node.files.cacert, caPem);
    await installUserCert(node.files, adminName, adminCert, admin.keyPem);
    await installServerCert(node.files, serverCert, server.keyPem);
    lines.push(
      `installed server certificate for ${wanted.join(", ")}`,
      `installed client certificate ${adminName}`,
    );
  } finally {
    client.close();
  }
  return await finish(node, lines, opts.now);
}

async function finish(node: NodeIdentity, lines: string[], now?: Date): Promise<InitSslResult> {
  const hosts = serverSanEntries(node).map((s) => s.value);
  const { ok, findings } = await checkCert(node.files, {
    target: "all",
    dns: hosts,
    now,
  });
  return { ok, lines: [...lines, ...findings.map((f) => `${f.ok ? "OK " : "ERR"} ${f.message}`)], findings };
}

async function askToSign(
  client: Deno.HttpClient,
  base: URL,
  user: string,
  password: string,
  name: string,
  field: "servercsr" | "usercsr",
  csrPem: string,
): Promise<string> {
  const body = new URLSearchParams({ action: "signrequest", name, [field]: csrPem });
  let res: Response;
  try {
    res = await fetch(new URL("/caserv", base), {
      method: "POST",
      client,
      headers: {
        authorization: `Basic ${
          btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)))
        }`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body,
    });
  } catch (e) {
    throw new InitSslError(`cannot reach the CA service at ${base.origin}: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (res.status === 401) throw new InitSslError(`the CA service refused ${user}: wrong password`);
  if (!res.ok) throw new InitSslError(`the CA service refused to sign ${name}: ${res.status} ${text.trim()}`);
  return text;
}

function normalizeFingerprint(f: string): string {
  return f.replace(/[^0-9a-fA-F]/g, "").toUpperCase();
}

/**
 * GET /certs/cacert.crt without verifying the service (this node has no CA yet to verify it with).
 * Only public data travels this way; the answer is pinned by fingerprint or shown to the operator.
 */
export function fetchCaCertificate(base: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      new URL("/certs/cacert.crt", base),
      { rejectUnauthorized: false, timeout: 10_000 },
      (res) => {
        const chunks: Uint8Array[] = [];
        let total = 0;
        res.on("data", (c: Uint8Array) => {
          total += c.length;
          if (total > MAX_CA_REQUEST_BYTES) {
            req.destroy(new Error("the CA certificate answer is too large"));
            return;
          }
          chunks.push(c);
        });
        res.on("end", () => {
          if (res.statusCode !== 200) {
            reject(new InitSslError(`GET ${base.origin}/certs/cacert.crt answered ${res.statusCode}`));
            return;
          }
          const pem = new TextDecoder().decode(concat(chunks));
          try {
            const cert = new x509.X509Certificate(pem);
            if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) {
              throw new Error("not a CA certificate");
            }
            resolve(cert.toString("pem"));
          } catch (e) {
            reject(
              new InitSslError(
                `${base.origin}/certs/cacert.crt is not a CA certificate: ${(e as Error).message}`,
              ),
            );
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out after 10 s")));
    req.on(
      "error",
      (e) => reject(new InitSslError(`cannot reach the CA service at ${base.origin}: ${e.message}`)),
    );
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
