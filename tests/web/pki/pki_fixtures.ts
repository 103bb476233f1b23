// Shared pieces of the PKI tests: temporary SAFE roots, a CA, openssl when installed.
import { join } from "node:path";
import { createCa, loadCa, type PkiFiles, pkiFiles } from "../../../src/web/pki/mod.ts";
import type { CertificateAuthority, KeyKind } from "../../../src/web/pki/mod.ts";

export async function tempSafe(
  prefix = "pki-",
): Promise<{ safe: string; files: PkiFiles; cleanup(): Promise<void> }> {
  const safe = await Deno.makeTempDir({ prefix });
  return { safe, files: pkiFiles(safe), cleanup: () => Deno.remove(safe, { recursive: true }) };
}

export async function newCa(kind: KeyKind = "ecdsa", subject?: string): Promise<CertificateAuthority> {
  const c = await createCa({ kind, subject });
  return await loadCa(c.certPem, c.keyPem);
}

let openssl: boolean | undefined;
export async function hasOpenssl(): Promise<boolean> {
  if (openssl === undefined) {
    openssl = await new Deno.Command("which", { args: ["openssl"], stdout: "null", stderr: "null" }).output()
      .then((o) => o.success, () => false);
  }
  return openssl;
}

/** `openssl verify -CAfile ca [-purpose p] cert` on PEM texts; returns its exit status and output. */
export async function opensslVerify(caPem: string, certPem: string, purpose?: string) {
  const dir = await Deno.makeTempDir({ prefix: "pki-openssl-" });
  try {
    await Deno.writeTextFile(join(dir, "ca.pem"), caPem);
    await Deno.writeTextFile(join(dir, "cert.pem"), certPem);
    const args = [
      "verify",
      "-CAfile",
      join(dir, "ca.pem"),
      ...(purpose ? ["-purpose", purpose] : []),
      join(dir, "cert.pem"),
    ];
    const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
    const td = new TextDecoder();
    return { ok: out.success, text: td.decode(out.stdout) + td.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

export const CLUSTER_XML = `<cluster><lans>
  <lan name="default" command="on"><node name="node1" addr="127.0.0.101"/><node name="node2" addr="127.0.0.102"/></lan>
  <lan name="repli"><node name="node1" addr="10.1.0.1"/><node name="node2" addr="10.1.0.2"/></lan>
  <lan name="nat"><node name="node1" addr="203.0.113.7" laddr="192.168.5.1"/><node name="node2" addr="node2.example.com" laddr="192.168.5.2"/></lan>
  <lan name="v6"><node name="node1" addr="[2001:db8::1]"/><node name="node2" addr="[2001:db8::2]"/></lan>
</lans></cluster>`;
