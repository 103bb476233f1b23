// The built-in certificate authority (spec §9.1 "HTTPS with the SafeKit PKI"): a self-signed CA that signs
// the server certificates of the cluster nodes and the users' client certificates, 20 years each.
// Everything the CA signs comes in as a PKCS#10 request, local or remote, so there is one issuing path and
// the CA decides the profile (key usages, EKU, subject) itself: a request only proposes a name and, for a
// server, the addresses it answers on.
import * as x509 from "@peculiar/x509";
import {
  generateKeyPair,
  importSigningKey,
  type KeyKind,
  privateKeyPem,
  publicKeyDerOfPrivatePem,
  randomSerial,
  sameBytes,
  signingAlgorithm,
} from "./keys.ts";
import { type Role, ROLES } from "./roles.ts";
import { sanEntriesOf, type SanEntry, validateSanEntry } from "./san.ts";

export const CERT_VALIDITY_YEARS = 20;
export const DEFAULT_CA_SUBJECT = "CN=SafeKit Local Certificate Authority";
/** A request may claim this many addresses and names at most: a bound on what a remote caller makes us sign. */
export const MAX_SAN_ENTRIES = 128;
// Nodes' clocks differ; a certificate valid only from the CA's "now" would be refused for a few seconds
// by a node whose clock is behind.
const BACKDATE_MS = 10 * 60 * 1000;

export type CertificateAuthority = {
  readonly certPem: string;
  readonly cert: x509.X509Certificate;
  readonly signingKey: CryptoKey;
  readonly kind: KeyKind;
};

export type Validity = { readonly notBefore: Date; readonly notAfter: Date };

export function defaultValidity(now: Date): Validity {
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CERT_VALIDITY_YEARS);
  return { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter };
}

/** Accepts SafeKit's OpenSSL-style "/O=Acme/CN=Acme CA" as well as "CN=Acme CA, O=Acme". */
export function normalizeSubject(subject: string): string {
  const s = subject.trim();
  if (!s.startsWith("/")) return s;
  return s.split("/").filter((p) => p !== "").join(", ");
}

export async function createCa(
  opts: { subject?: string; kind?: KeyKind; now?: Date; validity?: Validity } = {},
): Promise<{ certPem: string; keyPem: string }> {
  const kind = opts.kind ?? "ecdsa";
  const keys = await generateKeyPair(kind);
  const validity = opts.validity ?? defaultValidity(opts.now ?? new Date());
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: normalizeSubject(opts.subject ?? DEFAULT_CA_SUBJECT),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    signingAlgorithm: signingAlgorithm(kind),
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

/** Loads the CA from its files; refuses a key that is not the certificate's. */
export async function loadCa(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  if (!sameBytes(new Uint8Array(cert.publicKey.rawData), publicKeyDerOfPrivatePem(keyPem))) {
    throw new Error("the CA private key does not match the CA certificate");
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new Error(`${cert.subject} is not a CA certificate (basicConstraints CA is not set)`);
  const { key, kind } = await importSigningKey(keyPem);
  return { certPem: cert.toString("pem"), cert, signingKey: key, kind };
}

export type CertProfile =
  | { readonly kind: "server" }
  | { readonly kind: "client"; readonly role: Role };

export class CsrError extends Error {
  override name = "CsrError";
}

const CN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:\- ]{0,127}$/;

function commonNameOf(name: x509.Name): string | undefined {
  return name.getField("CN")[0];
}

/**
 * Signs a PKCS#10 request with the profile the CA chooses. A server certificate carries the request's
 * IP and DNS names (and nothing else); a client certificate carries the role as OU.
 */
export async function signCsr(
  ca: CertificateAuthority,
  csrPem: string,
  profile: CertProfile,
  opts: { now?: Date; validity?: Validity } = {},
): Promise<string> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (e) {
    throw new CsrError(`not a PEM certificate request (${(e as Error).message})`);
  }
  if (!await csr.verify()) throw new CsrError("the certificate request signature does not verify");
  const cn = commonNameOf(csr.subjectName);
  if (!cn || !CN_PATTERN.test(cn)) {
    throw new CsrError(`the request subject '${csr.subject}' has no acceptable CN (letters, digits, ._@:- )`);
  }
  const keyAlg = csr.publicKey.algorithm.name;
  const isRsa = keyAlg === "RSASSA-PKCS1-v1_5" || keyAlg === "RSA-PSS";
  const validity = opts.validity ?? defaultValidity(opts.now ?? new Date());
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  let subject: string;
  if (profile.kind === "server") {
    const sans = csrSanEntries(csr);
    if (sans.length === 0) {
      throw new CsrError("a server certificate request must name at least one IP or DNS name");
    }
    if (sans.length > MAX_SAN_ENTRIES) {
      throw new CsrError(
        `a server certificate request names ${sans.length} addresses, at most ${MAX_SAN_ENTRIES}`,
      );
    }
    for (const s of sans) {
      const problem = validateSanEntry(s);
      if (problem) throw new CsrError(problem);
    }
    subject = new x509.Name([{ CN: [cn] }]).toString();
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | (isRsa ? x509.KeyUsageFlags.keyEncipherment : 0),
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans.map((s) => ({ type: s.type, value: s.value }))),
    );
  } else {
    if (!ROLES.includes(profile.role)) {
      throw new CsrError(`unknown role '${profile.role}' (Admin, Control, Monitor)`);
    }
    subject = new x509.Name([{ CN: [cn] }, { OU: [profile.role] }]).toString();
    extensions.push(
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: ca.cert.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    signingAlgorithm: signingAlgorithm(ca.kind),
    publicKey: csr.publicKey,
    signingKey: ca.signingKey,
    extensions,
  });
  return cert.toString("pem");
}

function csrSanEntries(csr: x509.Pkcs10CertificateRequest): SanEntry[] {
  const ext = csr.extensions.find((e) => e.type === "2.5.29.17");
  if (!ext) return [];
  const names = new x509.SubjectAlternativeNameExtension(ext.rawData).names.toJSON();
  return names.map((n) => ({ type: n.type, value: n.value }) as SanEntry);
}

export { sanEntriesOf };
