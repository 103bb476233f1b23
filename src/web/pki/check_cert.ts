// `safekit checkcert -t all|server|CA [-h dns] [-i ip]` (spec §9.1): is the CA certificate valid, does the
// server certificate chain to it, cover the names clients use, and match server.key? Each check yields a
// finding with a precise message; the checks are pure functions of the PEM texts and the time.
import * as x509 from "@peculiar/x509";
import { publicKeyDerOfPrivatePem, sameBytes } from "./keys.ts";
import { formatSan, sanEntriesOf, sansCover } from "./san.ts";
import { type PkiFiles, readPem } from "./store.ts";
import { clientCertIdentity } from "./client_cert.ts";

x509.cryptoProvider.set(crypto);

export type CertFinding = { readonly ok: boolean; readonly message: string };
export type CheckTarget = "all" | "server" | "CA";

function parse(label: string, pem: string): x509.X509Certificate | CertFinding {
  try {
    return new x509.X509Certificate(pem);
  } catch (e) {
    return { ok: false, message: `${label}: not a PEM certificate (${(e as Error).message})` };
  }
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export function checkDates(label: string, cert: x509.X509Certificate, now: Date): CertFinding {
  if (now < cert.notBefore) {
    return { ok: false, message: `${label}: not valid before ${iso(cert.notBefore)} (now ${iso(now)})` };
  }
  if (now > cert.notAfter) {
    return { ok: false, message: `${label}: expired on ${iso(cert.notAfter)} (now ${iso(now)})` };
  }
  return { ok: true, message: `${label}: valid from ${iso(cert.notBefore)} to ${iso(cert.notAfter)}` };
}

export async function checkIssuedBy(
  label: string,
  cert: x509.X509Certificate,
  ca: x509.X509Certificate,
): Promise<CertFinding> {
  const signed = await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }).catch(() => false);
  if (!signed || cert.issuer !== ca.subject) {
    return {
      ok: false,
      message: `${label}: not issued by the CA in cacert.crt (issuer '${cert.issuer}', CA '${ca.subject}'` +
        `${
          cert.issuer === ca.subject ? ", same name but the signature does not verify with the CA key" : ""
        })`,
    };
  }
  return { ok: true, message: `${label}: issued by '${ca.subject}'` };
}

export function checkKeyMatches(
  label: string,
  keyLabel: string,
  cert: x509.X509Certificate,
  keyPem: string | null,
): CertFinding {
  if (keyPem === null) return { ok: false, message: `${label}: ${keyLabel} is missing` };
  let der: Uint8Array;
  try {
    der = publicKeyDerOfPrivatePem(keyPem);
  } catch (e) {
    return {
      ok: false,
      message: `${label}: ${keyLabel} is not a readable private key (${(e as Error).message})`,
    };
  }
  return sameBytes(der, new Uint8Array(cert.publicKey.rawData))
    ? { ok: true, message: `${label}: ${keyLabel} matches the certificate` }
    : { ok: false, message: `${label}: ${keyLabel} does not match the certificate (different public key)` };
}

export function checkCovers(label: string, cert: x509.X509Certificate, host: string): CertFinding {
  const sans = sanEntriesOf(cert);
  if (sansCover(sans, host)) return { ok: true, message: `${label}: covers ${host}` };
  const present = sans.length ? sans.map(formatSan).join(", ") : "none";
  return { ok: false, message: `${label}: does not cover ${host} (subject alternative names: ${present})` };
}

function checkUsage(
  label: string,
  cert: x509.X509Certificate,
  usage: "serverAuth" | "clientAuth",
): CertFinding {
  const oid = usage === "serverAuth" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  return eku?.usages.includes(oid)
    ? { ok: true, message: `${label}: extended key usage ${usage}` }
    : { ok: false, message: `${label}: extended key usage lacks ${usage}` };
}

export async function checkCaCertificate(caPem: string | null, now: Date): Promise<CertFinding[]> {
  if (caPem === null) {
    return [{
      ok: false,
      message: "cacert.crt: missing (run 'safekit initssl sca' on the CA node, 'initssl req' here)",
    }];
  }
  const ca = parse("cacert.crt", caPem);
  if (!(ca instanceof x509.X509Certificate)) return [ca];
  const out: CertFinding[] = [checkDates("cacert.crt", ca, now)];
  if (!ca.getExtension(x509.BasicConstraintsExtension)?.ca) {
    out.push({
      ok: false,
      message: `cacert.crt: '${ca.subject}' is not a CA certificate (basicConstraints)`,
    });
  }
  const selfSigned = await ca.isSelfSigned().catch(() => false);
  if (!selfSigned) out.push({ ok: true, message: `cacert.crt: intermediate CA issued by '${ca.issuer}'` });
  return out;
}

export type ServerCheckInput = {
  readonly certPem: string | null;
  readonly keyPem: string | null;
  readonly caPem: string | null;
  readonly now: Date;
  /** Names and addresses the certificate must cover (`-h`, `-i`). */
  readonly hosts?: readonly string[];
  readonly label?: string;
};

export async function checkServerCertificate(input: ServerCheckInput): Promise<CertFinding[]> {
  const label = input.label ?? "server.crt";
  if (input.certPem === null) {
    return [{ ok: false, message: `${label}: missing (HTTPS is not set up on this node)` }];
  }
  const cert = parse(label, input.certPem);
  if (!(cert instanceof x509.X509Certificate)) return [cert];
  const out: CertFinding[] = [checkDates(label, cert, input.now)];
  if (input.caPem !== null) {
    const ca = parse("cacert.crt", input.caPem);
    out.push(ca instanceof x509.X509Certificate ? await checkIssuedBy(label, cert, ca) : ca);
  } else {
    out.push({ ok: false, message: `${label}: cannot check the chain, cacert.crt is missing` });
  }
  out.push(checkKeyMatches(label, "server.key", cert, input.keyPem));
  out.push(checkUsage(label, cert, "serverAuth"));
  for (const h of input.hosts ?? []) out.push(checkCovers(label, cert, h));
  return out;
}

export async function checkClientCertificate(
  name: string,
  certPem: string | null,
  keyPem: string | null,
  caPem: string | null,
  now: Date,
): Promise<CertFinding[]> {
  const label = `${name}.crt`;
  if (certPem === null) return [{ ok: false, message: `${label}: missing` }];
  const cert = parse(label, certPem);
  if (!(cert instanceof x509.X509Certificate)) return [cert];
  const out: CertFinding[] = [checkDates(label, cert, now)];
  if (caPem !== null) {
    const ca = parse("cacert.crt", caPem);
    out.push(ca instanceof x509.X509Certificate ? await checkIssuedBy(label, cert, ca) : ca);
  }
  out.push(checkKeyMatches(label, `${name}.key`, cert, keyPem));
  out.push(checkUsage(label, cert, "clientAuth"));
  const id = clientCertIdentity(certPem);
  out.push(
    id
      ? { ok: true, message: `${label}: user '${id.name}', role ${id.role}` }
      : { ok: false, message: `${label}: the subject carries no role (OU=Admin|Control|Monitor)` },
  );
  return out;
}

export type CheckCertOptions = {
  readonly target: CheckTarget;
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly now?: Date;
};

/** The whole `checkcert` on a node's files. `all` = CA + server + every client certificate present. */
export async function checkCert(files: PkiFiles, opts: CheckCertOptions): Promise<{
  ok: boolean;
  findings: CertFinding[];
}> {
  const now = opts.now ?? new Date();
  const caPem = await readPem(files.cacert);
  const findings: CertFinding[] = [];
  if (opts.target === "CA" || opts.target === "all") findings.push(...await checkCaCertificate(caPem, now));
  if (opts.target === "server" || opts.target === "all") {
    findings.push(
      ...await checkServerCertificate({
        certPem: await readPem(files.serverCert),
        keyPem: await readPem(files.serverKey),
        caPem,
        now,
        hosts: [...opts.dns ?? [], ...opts.ips ?? []],
      }),
    );
  }
  if (opts.target === "all") {
    for (const name of await userCertNames(files)) {
      findings.push(
        ...await checkClientCertificate(
          name,
          await readPem(files.userCert(name)),
          await readPem(files.userKey(name)),
          caPem,
          now,
        ),
      );
    }
  }
  return { ok: findings.every((f) => f.ok), findings };
}

async function userCertNames(files: PkiFiles): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(files.userCertDir)) {
      if (e.isFile && e.name.endsWith(".crt")) names.push(e.name.slice(0, -4));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

/** One line a finding, "OK " or "ERR" first, as the CLI prints them. */
export function formatFindings(findings: readonly CertFinding[]): string {
  return findings.map((f) => `${f.ok ? "OK " : "ERR"} ${f.message}`).join("\n");
}
