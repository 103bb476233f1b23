// `safekit -r vip_if_ctrl -l`: the farm runtime's bucket view (rebuilt from a real automaton state), the
// read-only route GET /modules/{module}/farm over a real (not started) FarmRuntime, and the verb printing
// what the route answers. The route is not yet mounted by the node service, so the verb is driven through
// an ApiClient that calls the route table directly.
import assert from "node:assert/strict";
import { parseClusterXml, parseUserConfig } from "../../src/config/mod.ts";
import { type FarmEvent, type FarmState, initialFarmState, step } from "../../src/core/farm_automaton.ts";
import { bitmapHex, BUCKET_COUNT, groupPowers } from "../../src/core/farm_buckets.ts";
import { farmBucketsView, FarmRuntime, type FarmRuntimeDeps } from "../../src/daemon/farm_runtime.ts";
import { farmRoutes } from "../../src/daemon/farm_routes.ts";
import type { NodeService } from "../../src/daemon/node_service.ts";
import { NodeError } from "../../src/daemon/node_error.ts";
import { nodePaths } from "../../src/platform/node_paths.ts";
import type { ApiClient, ApiResponse } from "../../src/cli/daemon_client.ts";
import type { CliContext } from "../../src/cli/context.ts";
import { CliError } from "../../src/cli/cli_error.ts";
import { vipIfCtrl } from "../../src/cli/verbs_vip_if_ctrl.ts";

const NODES = ["node1", "node2", "node3"];

/** A farm automaton of node1 driven to UP Ready with the given farm membership. */
function upState(members: string[]): FarmState {
  let s = initialFarmState({
    node: "node1",
    mode: "farm",
    groups: [{ name: "G", powers: groupPowers(NODES) }],
    vip: true,
    scriptcontrol: false,
    waitRules: false,
  });
  const feed = (e: FarmEvent) => (s = step(s, e, 0).state);
  const done = () => {
    const r = s.job?.running;
    assert.ok(r, "a script is running");
    feed({ kind: "scriptFinished", script: r.name, runId: r.runId, exitCode: 0, timedOut: false });
  };
  feed({ kind: "command", id: "c1", verb: "start", by: "root" });
  done(); // prestart
  done(); // transition
  feed({ kind: "membership", members });
  done(); // start_both
  done(); // transition
  assert.equal(`${s.local} ${s.qual}`, "UP Ready");
  return s;
}

Deno.test("farmBucketsView: every bucket has one owner among the members; node1's own are the ones it holds", () => {
  const [g] = farmBucketsView(upState(NODES));
  assert.equal(g.group.name, "G");
  assert.deepEqual(g.assignment.members, NODES);
  assert.equal(g.assignment.owners.length, BUCKET_COUNT);
  assert.ok(g.assignment.owners.every((o) => o !== null && NODES.includes(o)));
  const mine = g.assignment.owners.flatMap((o, b) => (o === "node1" ? [b] : []));
  assert.deepEqual([...g.local], mine);
  for (const n of NODES) {
    const load = g.assignment.owners.filter((o) => o === n).length;
    assert.ok(Math.abs(load - BUCKET_COUNT / 3) <= 2, `${n} owns ${load}`);
  }
});

Deno.test("farmBucketsView: a stopped module shows its groups with no member and no owner", () => {
  const s = initialFarmState({
    node: "node1",
    mode: "farm",
    groups: [{ name: "G", powers: groupPowers(NODES) }],
    vip: true,
    scriptcontrol: false,
    waitRules: false,
  });
  const [g] = farmBucketsView(s);
  assert.deepEqual(g.assignment.members, []);
  assert.ok(g.assignment.owners.every((o) => o === null));
  assert.deepEqual(g.local, []);
});

// ---------------------------------------------------------------- the route over real runtimes

const CLUSTER = parseClusterXml(`<cluster><lans><lan name="default">
  <node name="node1" addr="127.0.0.2"/><node name="node2" addr="127.0.0.3"/><node name="node3" addr="127.0.0.4"/>
</lan></lans></cluster>`);

function farmConfig(withVip: boolean) {
  const vip = withVip
    ? `<vip><interface_list><interface><virtual_interface type="vmac_directed">
    <virtual_addr addr="10.99.9.50" where="alias"/></virtual_interface></interface></interface_list>
  <loadbalancing_list><group name="G"><rule port="8080" proto="tcp" filter="on_port"/></group></loadbalancing_list>
  </vip>`
    : "";
  return parseUserConfig(
    `<safe><service mode="farm"><farm><lan name="default"/></farm>${vip}</service></safe>`,
  );
}

/** A FarmRuntime as the module manager builds it, never started: nothing runs, nothing touches the host. */
function runtime(withVip: boolean): FarmRuntime {
  const deps: FarmRuntimeDeps = {
    paths: nodePaths("/nonexistent/safe", "/nonexistent/var"),
    module: "farm",
    id: 1,
    config: farmConfig(withVip),
    cluster: CLUSTER,
    localNode: "node1",
    key: new Uint8Array(32),
    log: {} as FarmRuntimeDeps["log"],
    resources: {} as FarmRuntimeDeps["resources"],
    onStateChange: () => {},
  };
  return new FarmRuntime(deps);
}

type FakeModule = { name: string; id: number; mode: string; state: unknown; engine: unknown };

/** The slice of NodeService the farm route reads: modules.get/list and the cluster's local node. */
function fakeService(mods: FakeModule[]): NodeService {
  const get = (name: string) => {
    const m = mods.find((x) => x.name === name);
    if (!m) throw new NodeError(`module '${name}' is not installed`, 404, "not_found");
    return m;
  };
  return {
    modules: { get, list: () => mods },
    cluster: { active: { localNode: "node1" } },
  } as unknown as NodeService;
}

/** Serves GET /api/v1/modules and the farm routes as the node service would (status and JSON). */
function routeClient(s: NodeService, mods: FakeModule[], calls: string[]): ApiClient {
  const [route] = farmRoutes(s);
  return {
    label: "routes",
    request(method: string, path: string): Promise<ApiResponse> {
      calls.push(`${method} ${path}`);
      const reply = (status: number, json: unknown) =>
        Promise.resolve({ status, json: JSON.parse(JSON.stringify(json)), contentType: "application/json" });
      if (method === "GET" && path === "/api/v1/modules") {
        return reply(200, mods.map((m) => ({ name: m.name, mode: m.mode })));
      }
      const m = /^\/api\/v1\/modules\/([^/]+)\/farm$/.exec(path);
      if (method !== "GET" || !m) return reply(404, { error: "no route" });
      try {
        const r = route.handler({
          params: { module: decodeURIComponent(m[1]) },
          query: {},
          body: new Uint8Array(),
          caller: { kind: "local", user: "root" },
          json: () => ({}) as never,
          text: () => "",
        });
        return reply(200, (r as { json: unknown }).json);
      } catch (e) {
        if (e instanceof NodeError) return reply(e.status, { error: e.message });
        throw e;
      }
    },
  };
}

function cli(client: ApiClient, json = false) {
  const out: string[] = [];
  const ctx: CliContext = {
    io: { out: (t) => out.push(t), err: (t) => out.push(`ERR ${t}`) },
    client,
    paths: nodePaths("/nonexistent/safe", "/nonexistent/var"),
    json,
    remote: false,
    cwd: "/",
  };
  return { ctx, out };
}

Deno.test("GET /modules/{module}/farm: a farm runtime's groups with powers, members and 256 owners", () => {
  const mods: FakeModule[] = [
    {
      name: "farm",
      id: 1,
      mode: "farm",
      state: { local: "STOP", qualifier: "NotReady" },
      engine: runtime(true),
    },
  ];
  const [route] = farmRoutes(fakeService(mods));
  assert.equal(route.method, "get");
  assert.equal(route.path, "/modules/{module}/farm");
  assert.equal(route.mutates, false);
  const r = route.handler({
    params: { module: "farm" },
    query: {},
    body: new Uint8Array(),
    caller: { kind: "local", user: "root" },
    json: () => ({}) as never,
    text: () => "",
  }) as { json: unknown };
  const v = JSON.parse(JSON.stringify(r.json));
  assert.deepEqual(Object.keys(v).sort(), ["groups", "module", "node", "state"]);
  assert.equal(v.module, "farm");
  assert.equal(v.node, "node1");
  assert.deepEqual(v.state, { local: "STOP", qualifier: "NotReady" });
  assert.equal(v.groups.length, 1);
  assert.deepEqual(v.groups[0].group, { name: "G", powers: { node1: 1, node2: 1, node3: 1 } });
  assert.deepEqual(v.groups[0].assignment.members, []);
  assert.equal(v.groups[0].assignment.owners.length, BUCKET_COUNT);
  assert.deepEqual(v.groups[0].local, []);
});

Deno.test("vip_if_ctrl -l -m: prints each member's power, load and bitmap from the route's JSON", async () => {
  const state = upState(NODES);
  const [g] = farmBucketsView(state);
  // A started farm runtime answers bucketsView() from its automaton state: the same function.
  const engine = { bucketsView: () => farmBucketsView(state) };
  Object.setPrototypeOf(engine, FarmRuntime.prototype);
  const mods: FakeModule[] = [{
    name: "web",
    id: 2,
    mode: "farm",
    state: { local: "UP", qualifier: "Ready" },
    engine,
  }];
  const calls: string[] = [];
  const { ctx, out } = cli(routeClient(fakeService(mods), mods, calls));
  assert.equal(await vipIfCtrl(ctx, ["-l", "-m", "web"]), 0);
  assert.deepEqual(calls, ["GET /api/v1/modules/web/farm"]);
  const lines = out.join("\n").split("\n");
  assert.equal(lines[0], "module web on node1 (UP Ready)");
  assert.equal(lines[1], "group G_0 membership: node1 node2 node3");
  assert.equal(lines.length, 5);
  let total = 0;
  NODES.forEach((n, i) => {
    const mine = g.assignment.owners.flatMap((o, b) => (o === n ? [b] : []));
    total += mine.length;
    const pct = `${Math.round((100 * mine.length) / BUCKET_COUNT)}%`;
    assert.equal(lines[2 + i], `  ${n} power 1 load ${mine.length}/256 ${pct} ${bitmapHex(mine)}`);
  });
  assert.equal(total, BUCKET_COUNT, "the three bitmaps cover every bucket once");
});

Deno.test("vip_if_ctrl -l without -m: every farm module, mirror modules left out; --json gives the views", async () => {
  const mods: FakeModule[] = [
    { name: "m1", id: 1, mode: "mirror", state: null, engine: null },
    {
      name: "cloud",
      id: 2,
      mode: "farm",
      state: { local: "UP", qualifier: "Ready" },
      engine: runtime(false),
    },
    { name: "idle", id: 3, mode: "farm", state: null, engine: null },
  ];
  const calls: string[] = [];
  const { ctx, out } = cli(routeClient(fakeService(mods), mods, calls));
  assert.equal(await vipIfCtrl(ctx, ["-l"]), 0);
  assert.deepEqual(calls, [
    "GET /api/v1/modules",
    "GET /api/v1/modules/cloud/farm",
    "GET /api/v1/modules/idle/farm",
  ]);
  assert.equal(
    out.join("\n"),
    "module cloud on node1 (UP Ready): no load-balancing group (no <vip><loadbalancing_list>)\n\n" +
      "module idle on node1 (not configured): no load-balancing group (no <vip><loadbalancing_list>)",
  );
  const j = cli(routeClient(fakeService(mods), mods, []), true);
  assert.equal(await vipIfCtrl(j.ctx, ["-l"]), 0);
  const views = JSON.parse(j.out.join("\n"));
  assert.deepEqual(views.map((v: { module: string; groups: unknown[] }) => [v.module, v.groups.length]), [
    ["cloud", 0],
    ["idle", 0],
  ]);
});

Deno.test("vip_if_ctrl: refuses a mirror module with the node's message, and requires -l", async () => {
  const mods: FakeModule[] = [{ name: "m1", id: 1, mode: "mirror", state: null, engine: null }];
  const { ctx } = cli(routeClient(fakeService(mods), mods, []));
  await assert.rejects(
    () => vipIfCtrl(ctx, ["-l", "-m", "m1"]),
    (e) => e instanceof CliError && /mirror module: only farm modules/.test(e.message),
  );
  await assert.rejects(
    () => vipIfCtrl(ctx, ["-m", "m1"]),
    (e) => e instanceof CliError && /needs -l/.test(e.message),
  );
  await assert.rejects(
    () => vipIfCtrl(ctx, ["-l", "-m", "nope"]),
    (e) => e instanceof CliError && /not installed/.test(e.message),
  );
});
