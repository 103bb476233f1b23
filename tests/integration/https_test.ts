// HTTPS with the built-in CA between two real node services: initssl sca on node1, the CA service for the
// setup, initssl req on node2, then 9453 serves, 9010 redirects (the probe stays on HTTP), distributed
// commands go over HTTPS, and rmcerts goes back to HTTP.
import assert from "node:assert/strict";
import { join } from "node:path";
import { clusterXml, withNodes } from "./node_harness.ts";

Deno.test("HTTPS: built-in CA, certificates for both nodes, redirect, distributed commands over TLS, back to HTTP", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
    await n1.ok("cluster", "config", "cluster.xml");
    await n1.ok("cluster", "export", "bundle.zip");
    await n2.ok("cluster", "config", "bundle.zip");

    await n1.ok("initssl", "sca");
    const started = await n1.ok("startcaserv", "s3cret-ca-password");
    const fp = /fingerprint ([0-9A-Fa-f:]+)\)/.exec(started)?.[1];
    assert.ok(fp, started);
    try {
      const wrong = await n2.cli(
        "initssl",
        "req",
        "https://127.0.0.2:9001",
        "CA_admin:wrong-password",
        "-f",
        fp!,
      );
      assert.notEqual(wrong.code, 0);
      await n2.ok("initssl", "req", "https://127.0.0.2:9001", "CA_admin:s3cret-ca-password", "-f", fp!);
    } finally {
      await n1.cli("stopcaserv");
    }
    for (const n of [n1, n2]) {
      assert.match(await n.ok("checkcert", "-t", "all"), /^OK /m);
      assert.match(await n.ok("webserver", "restart"), /\(https\)/);
    }

    const ca = await Deno.readTextFile(join(n1.safe, "web", "conf", "cacert.crt"));
    const client = Deno.createHttpClient({ caCerts: [ca] });
    try {
      const doc = await fetch("https://127.0.0.3:9453/api/openapi.json", { client });
      assert.equal(doc.status, 200);
      await doc.body?.cancel();
      const redirect = await fetch("http://127.0.0.2:9010/api/v1/modules?x=1", { redirect: "manual" });
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.get("location"), "https://127.0.0.2:9453/api/v1/modules?x=1");
      await redirect.body?.cancel();
      const probe = await fetch("http://127.0.0.2:9010/var/modules/none/ready.txt", { redirect: "manual" });
      assert.equal(probe.status, 404, "the health probe stays on HTTP for load balancers");
      await probe.body?.cancel();
    } finally {
      client.close();
    }
    const dist = await n1.ok("-H", "*", "level");
    assert.match(dist, /Server=https:\/\/127\.0\.0\.3:9453/);
    assert.equal(dist.match(/SafeKit: /g)?.length, 2, dist);

    await n2.ok("rmcerts");
    assert.match(await n2.ok("webserver", "restart"), /\(http\)/);
    const plain = await fetch("http://127.0.0.3:9010/api/openapi.json");
    assert.equal(plain.status, 200);
    await plain.body?.cancel();
  });
});
