import assert from "node:assert/strict";
import { join } from "node:path";
import { ResourceStore, StoreError, validateResourceName } from "../../src/store/mod.ts";
import { resourceClass } from "../../src/store/resource_name.ts";
import { withTempDir } from "./temp_store_dir.ts";

async function withStore(fn: (store: ResourceStore, path: string) => void, limits = {}) {
  await withTempDir((dir) => {
    const path = join(dir, "modules", "mirror", "resource.db");
    const store = new ResourceStore(path, limits);
    try {
      fn(store, path);
    } finally {
      store.close();
    }
  });
}

Deno.test("resources: set reports a change only when the value differs; the date is the last assignment", async () => {
  await withStore((store) => {
    assert.equal(store.get("ping.r"), undefined);
    assert.deepEqual(store.set("ping.r", "init", { at: 1000, by: "pingcheck" }), { changed: true });
    assert.deepEqual(store.set("ping.r", "up", { at: 2000, by: "pingcheck" }), { changed: true });
    assert.deepEqual(store.set("ping.r", "up", { at: 3000, by: "admin" }), { changed: false });
    assert.deepEqual(store.get("ping.r"), {
      name: "ping.r",
      value: "up",
      at: 3000,
      by: "admin",
      changedAt: 2000,
    });
  });
});

Deno.test("resources: values other than states (numbers, dates) are kept verbatim", async () => {
  await withStore((store) => {
    store.set("heart.stopstartloop", "1628239220", { at: 1, by: "heart" });
    store.set("rfs.syncat", "2021-08-06T08:40:20", { at: 1, by: "nfsadmin" });
    store.set("FarmProto_0", "50%", { at: 1, by: "farm" });
    assert.equal(store.get("heart.stopstartloop")?.value, "1628239220");
    assert.equal(store.get("rfs.syncat")?.value, "2021-08-06T08:40:20");
    assert.equal(store.get("FarmProto_0")?.value, "50%");
  });
});

Deno.test("resources: list returns current values sorted by name", async () => {
  await withStore((store) => {
    for (const name of ["state.local", "custom.b", "heartbeat.default", "custom.a", "usersetting.errd"]) {
      store.set(name, "up", { at: 5, by: "t" });
    }
    store.set("custom.b", "down", { at: 6, by: "t" });
    assert.deepEqual(
      store.list().map((r) => `${r.name}=${r.value}`),
      ["custom.a=up", "custom.b=down", "heartbeat.default=up", "state.local=up", "usersetting.errd=up"],
    );
  });
});

Deno.test("resources: history lists every assignment of one resource, oldest first, newest `limit`", async () => {
  await withStore((store) => {
    const values = ["init", "up", "up", "down", "up"];
    values.forEach((v, i) => {
      store.set("tcp.web", v, { at: 100 + i, by: "tcpcheck" });
      store.set("tcp.other", "down", { at: 100 + i, by: "tcpcheck" });
    });
    const history = store.history("tcp.web");
    assert.deepEqual(history.map((h) => h.value), values);
    assert.deepEqual(history.map((h) => h.at), [100, 101, 102, 103, 104]);
    assert.ok(history.every((h, i) => i === 0 || h.id > history[i - 1].id));
    assert.deepEqual(store.history("tcp.web", 2).map((h) => h.value), ["down", "up"]);
    assert.deepEqual(store.history("tcp.none"), []);
  });
});

Deno.test("resources: history is pruned to its bound while current values stay", async () => {
  await withStore((store) => {
    for (let i = 0; i < 100; i++) store.set(`custom.r${i % 7}`, String(i), { at: i, by: "t" });
    assert.ok(store.historyCount() <= 20 + 5 - 1);
    assert.equal(store.list().length, 7);
    assert.equal(store.get("custom.r1")?.value, "99");
    assert.deepEqual(store.history("custom.r1").map((h) => h.value), ["85", "92", "99"]);
  }, { maxRows: 20, pruneEvery: 5 });
});

Deno.test("resources: remove forgets the current value and keeps the history", async () => {
  await withStore((store) => {
    store.set("custom.gone", "up", { at: 1, by: "t" });
    assert.equal(store.remove("custom.gone"), true);
    assert.equal(store.remove("custom.gone"), false);
    assert.equal(store.get("custom.gone"), undefined);
    assert.equal(store.history("custom.gone").length, 1);
  });
});

Deno.test("resources: names of the documented classes are accepted", () => {
  for (
    const name of [
      "state.local",
      "heartbeat.default",
      "rfs.uptodate",
      "usersetting.errd",
      "custom.my-id_2",
      "module.othermodule_10.0.0.1",
      "intf.ip.0",
      "module.m_fe80::1",
      "FarmProto_0",
      "x".repeat(128),
    ]
  ) assert.equal(validateResourceName(name), name);
  assert.equal(resourceClass("heartbeat.flow"), "heartbeat");
  assert.equal(resourceClass("FarmProto_0"), "");
});

Deno.test("resources: invalid names get a precise error and nothing is written", async () => {
  await withStore((store) => {
    const cases: [unknown, RegExp][] = [
      ["", /invalid resource name: empty/],
      ["custom.a b", /invalid resource name "custom\.a b": character " " at position 9 is not allowed/],
      ["rfs/uptodate", /character "\/" at position 4/],
      ["x".repeat(129), /129 characters, at most 128/],
      [42, /expected a string, found number/],
    ];
    for (const [name, pattern] of cases) {
      assert.throws(() => store.set(name as string, "up", { at: 1, by: "t" }), (e) => {
        assert.ok(e instanceof StoreError);
        assert.equal(e.code, "invalid-resource-name");
        assert.match(e.message, pattern);
        return true;
      });
    }
    assert.deepEqual(store.list(), []);
  });
});

Deno.test("resources: values with line breaks and identities with '|' are rejected", async () => {
  await withStore((store) => {
    assert.throws(
      () => store.set("custom.a", "up\ndown", { at: 1, by: "t" }),
      /resource custom\.a: value: control/,
    );
    assert.throws(
      () => store.set("custom.a", "up", { at: 1, by: "a|b" }),
      /resource custom\.a: by: character "\|"/,
    );
    assert.throws(
      () => store.set("custom.a", "up", { at: -1, by: "t" }),
      /resource custom\.a: at: invalid time -1/,
    );
    assert.equal(store.historyCount(), 0);
  });
});

Deno.test("resources: two handles on one file see each other's assignments", async () => {
  await withStore((first, path) => {
    const second = new ResourceStore(path);
    try {
      for (let i = 0; i < 200; i++) {
        (i % 2 === 0 ? first : second).set("custom.shared", String(i), {
          at: i,
          by: i % 2 === 0 ? "one" : "two",
        });
      }
      assert.equal(first.get("custom.shared")?.value, "199");
      assert.equal(second.get("custom.shared")?.by, "two");
      assert.deepEqual(
        first.history("custom.shared", 1000).map((h) => h.value),
        Array.from({ length: 200 }, (_, i) => `${i}`),
      );
    } finally {
      second.close();
    }
  });
});
