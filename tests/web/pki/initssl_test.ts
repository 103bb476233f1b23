import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { parseClusterXml } from "../../../src/config/mod.ts";
import { serveHttpsWithClientCerts } from "../../../src/web/https_server.ts";
import {
  checkCert,
  clientTlsOptions,
  formatFindings,
  formatSan,
  initsslRca,
  initsslReq,
  initsslSca,
  loadLocalCa,
  makeUserCert,
  type NodeIdentity,
  readPem,
  readServerTls,
  rmcerts,
  sanEntriesOf,
  startCaService,
} from "../../../src/web/pki/mod.ts";
import { tempSafe } from "./pki_fixtures.ts";

const cluster = parseClusterXml(`<cluster><lans>
  <lan name="default"><node name="node1" addr="127.0.0.111"/><node name="node2" addr="127.0.0.112"/></lan>
  <lan name="repli"><node name="node1" addr="10.9.0.1"/><node name="node2" addr="10.9.0.2"/></lan>
</lans></cluster>`);

Deno.test("initssl sca on one node, CA service, initssl req on another: both in HTTPS mode, mTLS works", async () => {
  const t1 = await tempSafe("pki-node1-");
  const t2 = await tempSafe("pki-node2-");
  const node1: NodeIdentity = { files: t1.files, hostname: "node1-host", cluster, localNode: "node1" };
  const node2: NodeIdentity = { files: t2.files, hostname: "node2-host", cluster, localNode: "node2" };
  try {
    const sca = await initsslSca(node1, { subject: "/O=Acme/CN=Acme SafeKit CA" });
    assert.ok(sca.ok, sca.lines.join("\n"));
    await assert.rejects(initsslSca(node1), /a CA already exists in .*'initssl rca' reissues/);
    const ca = (await loadLocalCa(t1.files))!;
    assert.equal(ca.cert.subject, "O=Acme, CN=Acme SafeKit CA");

    const service = await startCaService({
      ca,
      files: t1.files,
      password: "ca-secret-1",
      hostname: "127.0.0.111",
      port: 0,
    });
    const caUrl = `https://127.0.0.111:${service.port}`;
    try {
      await assert.rejects(
        initsslReq(node2, { caUrl, password: "ca-secret-1", fingerprint: "AA:BB" }),
        /has fingerprint .* not the expected AA:BB: nothing installed/,
      );
      await assert.rejects(
        initsslReq(node2, { caUrl, password: "wrong-pass" }),
        /refused CA_admin: wrong password/,
      );
      assert.equal(await readPem(t2.files.cacert), null, "a failed request installs nothing");
      assert.equal(await readServerTls(t2.files), null);

      const req = await initsslReq(node2, {
        caUrl,
        password: "ca-secret-1",
        fingerprint: service.caFingerprint,
      });
      assert.ok(req.ok, req.lines.join("\n"));
      assert.match(req.lines[0], /\(matches\)$/);
    } finally {
      await service.stop();
    }
    await service.finished;

    assert.equal(await readPem(t2.files.cacert), ca.certPem);
    const tls2 = (await readServerTls(t2.files))!;
    assert.deepEqual(
      sanEntriesOf(new x509.X509Certificate(tls2.cert)).map(formatSan),
      ["DNS:node2-host", "IP:127.0.0.112", "IP:10.9.0.2"],
    );
    assert.equal((await Deno.stat(t2.files.serverKey)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(t2.files.userKey("user_Admin_node2-host"))).mode! & 0o777, 0o600);
    const check2 = await checkCert(t2.files, { target: "all", ips: ["127.0.0.112"], dns: ["node2-host"] });
    assert.ok(check2.ok, formatFindings(check2.findings));

    // node1 runs a distributed command against node2 with its admin client certificate.
    const server2 = await serveHttpsWithClientCerts({
      hostname: "127.0.0.112",
      port: 0,
      tls: tls2,
      caPem: (await readPem(t2.files.cacert))!,
      handler: (_req, _addr, peer) => Response.json(peer),
    });
    const client1 = Deno.createHttpClient(clientTlsOptions({
      cacertPem: (await readPem(t1.files.cacert))!,
      certPem: (await readPem(t1.files.userCert("user_Admin_node1-host")))!,
      keyPem: (await readPem(t1.files.userKey("user_Admin_node1-host")))!,
    }));
    try {
      const res = await fetch(`https://127.0.0.112:${server2.port}/api/v1/level`, { client: client1 });
      assert.deepEqual(await res.json(), { kind: "verified", name: "user_Admin_node1-host", role: "Admin" });
    } finally {
      client1.close();
      await server2.close();
    }

    // On the CA node: a user certificate, then reissue with one more name.
    const alice = await makeUserCert(node1, "alice", "Control");
    assert.ok((await readPem(alice.certPath))?.includes("BEGIN CERTIFICATE"));
    const rca = await initsslRca({ ...node1, extraNames: ["console.example.com"] });
    assert.ok(rca.ok, rca.lines.join("\n"));
    const tls1 = (await readServerTls(t1.files))!;
    assert.ok(
      sanEntriesOf(new x509.X509Certificate(tls1.cert)).map(formatSan).includes("DNS:console.example.com"),
    );

    assert.ok((await rmcerts(t2.files, { ca: false })).includes(t2.files.serverCert));
    assert.equal(await readServerTls(t2.files), null, "rmcerts puts the node back in HTTP mode");
    await rmcerts(t1.files, { ca: true });
    assert.equal(await loadLocalCa(t1.files), null);
    await assert.rejects(initsslRca(node1), /no CA on this node/);
  } finally {
    await t1.cleanup();
    await t2.cleanup();
  }
});

Deno.test("initssl req refuses a plain http:// CA URL and an unreachable CA service", async () => {
  const t = await tempSafe();
  try {
    const node: NodeIdentity = { files: t.files, hostname: "n" };
    await assert.rejects(
      initsslReq(node, { caUrl: "http://127.0.0.113:9001", password: "x" }),
      /must be https:\/\//,
    );
    await assert.rejects(
      initsslReq(node, { caUrl: "https://127.0.0.113:1", password: "x" }),
      /cannot reach the CA service at https:\/\/127.0.0.113:1/,
    );
  } finally {
    await t.cleanup();
  }
});
