// Client certificates (EKU clientAuth): `user_Admin_<host>` lets a node's distributed commands
// (`safekit -H ...`) authenticate to the other nodes' web services; `makeusercert <name> <Role>` makes one
// for a person. The role travels in the subject as OU, the name as CN.
import * as x509 from "@peculiar/x509";
import { type KeyAndRequest, makeKeyAndRequest } from "./csr.ts";
import type { KeyKind } from "./keys.ts";
import { isRole, type Role } from "./roles.ts";

export function userCertName(role: Role, host: string): string {
  return `user_${role}_${host}`;
}

/** Reads `user_<Role>_<host>`; null when the name is not of that form. */
export function parseUserCertName(name: string): { role: Role; host: string } | null {
  const m = /^user_([A-Za-z]+)_(.+)$/.exec(name);
  if (!m || !isRole(m[1])) return null;
  return { role: m[1], host: m[2] };
}

export function clientKeyAndRequest(name: string, kind: KeyKind = "ecdsa"): Promise<KeyAndRequest> {
  return makeKeyAndRequest(name, [], kind);
}

/** Who a client certificate names, as the web service maps it to a user and role. */
export function clientCertIdentity(cert: string | Uint8Array): { name: string; role: Role } | null {
  return identityOf(new x509.X509Certificate(typeof cert === "string" ? cert : cert.slice().buffer));
}

function identityOf(cert: x509.X509Certificate): { name: string; role: Role } | null {
  const name = cert.subjectName.getField("CN")[0];
  const role = cert.subjectName.getField("OU")[0];
  if (!name || !role || !isRole(role)) return null;
  return { name, role };
}

/** Options for Deno.createHttpClient: trust the cluster CA and present this node's admin certificate. */
export function clientTlsOptions(
  files: { cacertPem: string; certPem: string; keyPem: string },
): Deno.CreateHttpClientOptions & Deno.TlsCertifiedKeyPem {
  return { caCerts: [files.cacertPem], cert: files.certPem, key: files.keyPem };
}

export type { KeyKind };
