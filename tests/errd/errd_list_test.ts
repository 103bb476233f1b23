import assert from "node:assert/strict";
import { join } from "node:path";
import type { ErrdConfig, ErrdProc } from "../../src/config/mod.ts";
import { errdStep, initialErrdState } from "../../src/errd/errd_automaton.ts";
import { errdListText } from "../../src/errd/errd_list.ts";
import { ErrdMonitor } from "../../src/errd/errd_monitor.ts";

function proc(p: Partial<ErrdProc> & { name: string }): ErrdProc {
  return {
    service: false,
    atLeast: 1,
    atMax: -1,
    action: { kind: "restart" },
    restartServices: [],
    class: "prim",
    resource: `proc.${p.name}`,
    ...p,
  };
}

const CONFIG: ErrdConfig = {
  pollTimerMs: 30_000,
  procs: [
    proc({ name: "appli", argRegex: "^-c .*conf$" }),
    proc({ name: "myappli", class: "custom1", action: { kind: "handler", exe: "restart_myappli" } }),
  ],
};

Deno.test("errdlist: one line per <proc> with class, enabled, count, limits, action and state", () => {
  let state = initialErrdState(CONFIG, true);
  assert.equal(
    errdListText(CONFIG, state, null),
    "# errd on (usersetting.errd), polltimer 30000 ms\n" +
      "proc.appli class=prim enabled=no count=- atleast=1 atmax=-1 action=restart state=off name=appli " +
      "argregex=^-c .*conf$\n" +
      "proc.myappli class=custom1 enabled=no count=- atleast=1 atmax=-1 action=restart_myappli state=off " +
      "name=myappli\n",
  );
  state = errdStep(CONFIG, state, { kind: "enableClass", class: "prim" }).state;
  state = errdStep(CONFIG, state, { kind: "poll", counts: [0, 0] }).state;
  const lines = errdListText(CONFIG, state, [0, 0]).split("\n");
  assert.match(lines[1], /^proc\.appli class=prim enabled=yes count=0 .* state=down /);
  assert.match(lines[2], /enabled=no count=0 .* state=off /, "a disabled class is not evaluated");
});

Deno.test("errdlist: errd off shows every process off", () => {
  let state = initialErrdState(CONFIG, true);
  state = errdStep(CONFIG, state, { kind: "enableClass", class: "prim" }).state;
  state = errdStep(CONFIG, state, { kind: "setSwitch", on: false }).state;
  const text = errdListText(CONFIG, state, null);
  assert.match(text, /^# errd off/);
  assert.match(text, /proc\.appli class=prim enabled=yes .* state=off/);
});

Deno.test("errdlist: the monitor writes the file at start and rewrites it when a class is enabled", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const listFile = join(dir, "errdlist");
    const m = new ErrdMonitor(CONFIG, { onAction: () => {}, listFile, procRoot: dir });
    m.start();
    assert.match(await Deno.readTextFile(listFile), /proc\.myappli class=custom1 enabled=no/);
    m.enableClass("custom1");
    assert.match(await Deno.readTextFile(listFile), /proc\.myappli class=custom1 enabled=yes/);
    await m.stop();
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["errdlist"], "no tmp file left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
