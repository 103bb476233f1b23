// Over HTTP: a Monitor API key reads /metrics and state but cannot act; a Control key can act but not
// configure; a session login works with its CSRF token. Metrics follow the module's state.
import assert from "node:assert/strict";
import { withNodes } from "./node_harness.ts";
import { establishPair, MODULE, setupMirror } from "./mirror_harness.ts";

Deno.test("API keys by role, /metrics for Prometheus, and a browser-style session with CSRF", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await setupMirror(n1, n2, root);
    await establishPair(n1, n2);
    const monitor = (await n1.ok("apikey", "create", "Monitor", "prometheus")).trim();
    const control = (await n1.ok("apikey", "create", "Control", "operator")).trim();
    const base = "http://127.0.0.2:9010";
    const get = (path: string, token?: string) =>
      fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });

    const anon = await get("/metrics");
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    const m = await get("/metrics", monitor);
    assert.equal(m.status, 200);
    assert.match(m.headers.get("content-type") ?? "", /text\/plain; version=0\.0\.4/);
    const text = await m.text();
    assert.match(text, /^safekit_module_state\{module="mirror",mode="mirror"\} 3$/m);
    assert.match(text, /^safekit_module_ready\{module="mirror"\} 1$/m);
    assert.match(text, /^safekit_cluster_node_up\{node="node2"\} 1$/m);
    assert.match(text, /^safekit_heartbeat_packets_total\{module="mirror",result="accepted"\} \d+$/m);
    assert.match(text, /^safekit_script_runs_total\{module="mirror",script="start_prim",outcome="ok"\} 1$/m);

    const act = (token: string) =>
      fetch(`${base}/api/v1/modules/${MODULE}/commands/restart`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: "{}",
      });
    const refused = await act(monitor);
    assert.equal(refused.status, 403);
    assert.match((await refused.json()).error, /role Monitor; this call needs Control/);
    const restarted = await act(control);
    assert.equal(restarted.status, 200, await restarted.clone().text());
    await restarted.body?.cancel();
    const config = await fetch(`${base}/api/v1/modules/${MODULE}/config`, {
      method: "POST",
      headers: { authorization: `Bearer ${control}` },
    });
    assert.equal(config.status, 403);
    await config.body?.cancel();

    // A session: login, then a state-changing call needs the CSRF token.
    await n1.ok("webservercfg", "-passwd", "correct horse battery", "-user", "alice", "-role", "Control");
    const login = await fetch(`${base}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "httpd_username=alice&httpd_password=correct+horse+battery",
    });
    assert.equal(login.status, 200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    assert.match(cookie, /^sessionSK=/);
    const { csrfToken } = await login.json();
    const noCsrf = await fetch(`${base}/api/v1/modules/${MODULE}/commands/restart`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(noCsrf.status, 403);
    await noCsrf.body?.cancel();
    const withCsrf = await fetch(`${base}/api/v1/modules/${MODULE}/commands/restart`, {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrfToken, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(withCsrf.status, 200, await withCsrf.clone().text());
    await withCsrf.body?.cancel();
    assert.match(
      await n1.ok("log", "-m", MODULE),
      /Action restart called by alice@127\.0\.0\.1|Action restart called by alice@/,
    );
  });
});
