// A key pair and its PKCS#10 request, made where the key will live: the private key never leaves the node.
import * as x509 from "@peculiar/x509";
import { generateKeyPair, type KeyKind, privateKeyPem, signingAlgorithm } from "./keys.ts";
import type { SanEntry } from "./san.ts";

export type KeyAndRequest = { readonly keyPem: string; readonly csrPem: string };

export async function makeKeyAndRequest(
  commonName: string,
  sans: readonly SanEntry[] = [],
  kind: KeyKind = "ecdsa",
): Promise<KeyAndRequest> {
  const keys = await generateKeyPair(kind);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name([{ CN: [commonName] }]).toString(),
    keys,
    signingAlgorithm: signingAlgorithm(kind),
    extensions: sans.length
      ? [new x509.SubjectAlternativeNameExtension(sans.map((s) => ({ type: s.type, value: s.value })))]
      : [],
  });
  return { keyPem: await privateKeyPem(keys.privateKey), csrPem: csr.toString("pem") };
}
