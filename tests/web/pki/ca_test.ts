import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { parseClusterXml } from "../../../src/config/mod.ts";
import {
  clientCertIdentity,
  clientKeyAndRequest,
  CsrError,
  DEFAULT_CA_SUBJECT,
  formatSan,
  makeKeyAndRequest,
  sanEntriesOf,
  serverKeyAndRequest,
  serverSanEntries,
  signCsr,
  userCertName,
} from "../../../src/web/pki/mod.ts";
import { CLUSTER_XML, hasOpenssl, newCa, opensslVerify } from "./pki_fixtures.ts";

const cluster = parseClusterXml(CLUSTER_XML);

Deno.test("server SANs hold the hostname, every lan address and laddr of this node, and extra names, once each", () => {
  const sans = serverSanEntries({
    hostname: "Node1-Host",
    cluster,
    localNode: "node1",
    extraNames: ["public.example.com", "127.0.0.101", "LOCALHOST"],
  });
  assert.deepEqual(sans.map(formatSan), [
    "DNS:node1-host",
    "IP:127.0.0.101",
    "IP:10.1.0.1",
    "IP:203.0.113.7",
    "IP:192.168.5.1",
    "IP:2001:db8::1",
    "DNS:public.example.com",
    "DNS:localhost",
  ]);
  const node2 = serverSanEntries({ hostname: "n2", cluster, localNode: "node2" }).map(formatSan);
  assert.ok(node2.includes("DNS:node2.example.com") && node2.includes("IP:192.168.5.2"));
  assert.ok(
    !node2.includes("IP:127.0.0.101"),
    "another node's address must not be in this node's certificate",
  );
});

for (const kind of ["ecdsa", "rsa"] as const) {
  Deno.test(`${kind} CA signs a server certificate carrying every address, serverAuth, 20 years`, async () => {
    const ca = await newCa(kind);
    assert.equal(ca.cert.subject, DEFAULT_CA_SUBJECT);
    const req = await serverKeyAndRequest({ hostname: "node1", cluster, localNode: "node1" }, kind);
    const now = new Date("2026-01-01T00:00:00Z");
    const cert = new x509.X509Certificate(await signCsr(ca, req.csrPem, { kind: "server" }, { now }));
    assert.deepEqual(
      sanEntriesOf(cert).map(formatSan),
      serverSanEntries({ hostname: "node1", cluster, localNode: "node1" }).map(formatSan),
    );
    assert.equal(cert.notAfter.getUTCFullYear(), 2046);
    assert.ok(cert.notBefore < now);
    assert.deepEqual([...cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? []], [
      x509.ExtendedKeyUsage.serverAuth,
    ]);
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assert.ok(await cert.verify({ publicKey: ca.cert.publicKey, date: now }));
    if (await hasOpenssl()) {
      const v = await opensslVerify(ca.certPem, cert.toString("pem"), "sslserver");
      assert.ok(v.ok, v.text);
    }
  });
}

Deno.test("a client certificate user_Admin_<host> carries clientAuth and its role, and chains to the CA", async () => {
  const ca = await newCa();
  const name = userCertName("Admin", "node1");
  const req = await clientKeyAndRequest(name);
  const pem = await signCsr(ca, req.csrPem, { kind: "client", role: "Admin" });
  const cert = new x509.X509Certificate(pem);
  assert.deepEqual([...cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? []], [
    x509.ExtendedKeyUsage.clientAuth,
  ]);
  assert.deepEqual(clientCertIdentity(pem), { name: "user_Admin_node1", role: "Admin" });
  if (await hasOpenssl()) {
    const v = await opensslVerify(ca.certPem, pem, "sslclient");
    assert.ok(v.ok, v.text);
    const wrongPurpose = await opensslVerify(ca.certPem, pem, "sslserver");
    assert.ok(!wrongPurpose.ok, "a client certificate must not serve as a server certificate");
  }
});

Deno.test("openssl refuses a certificate from another CA", async () => {
  if (!await hasOpenssl()) return;
  const [ca, other] = [await newCa(), await newCa("ecdsa", "CN=Other CA")];
  const req = await serverKeyAndRequest({ hostname: "node1" });
  const pem = await signCsr(other, req.csrPem, { kind: "server" });
  assert.ok(!(await opensslVerify(ca.certPem, pem)).ok);
});

Deno.test("the CA refuses a request whose signature does not verify, a server request without names, a bad CN", async () => {
  const ca = await newCa();
  const good = await makeKeyAndRequest("node1", [{ type: "ip", value: "127.0.0.101" }]);
  // The last byte of a DER request is the last byte of its signature: flipping it keeps the structure.
  const der = new Uint8Array(x509.PemConverter.decodeFirst(good.csrPem)).slice();
  der[der.length - 1] ^= 0x01;
  const forged = x509.PemConverter.encode(der.buffer, "CERTIFICATE REQUEST");
  await assert.rejects(signCsr(ca, forged, { kind: "server" }), /signature does not verify/);
  await assert.rejects(signCsr(ca, forged, { kind: "server" }), CsrError);
  const noNames = await makeKeyAndRequest("node1");
  await assert.rejects(signCsr(ca, noNames.csrPem, { kind: "server" }), /at least one IP or DNS name/);
  const badCn = await makeKeyAndRequest("node1/../x", [{ type: "dns", value: "node1" }]);
  await assert.rejects(signCsr(ca, badCn.csrPem, { kind: "server" }), /no acceptable CN/);
  await assert.rejects(signCsr(ca, "garbage", { kind: "server" }), /not a PEM certificate request/);
});

Deno.test("the CA refuses a server request naming an e-mail address", async () => {
  const ca = await newCa();
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=node1",
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "email", value: "a@b.c" }])],
  });
  await assert.rejects(signCsr(ca, csr.toString("pem"), { kind: "server" }), /type 'email' is not accepted/);
});
