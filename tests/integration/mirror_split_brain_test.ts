// A real split brain: nftables drops the heartbeats between the two nodes both ways, both go ALONE; when
// the partition heals, the former SECOND exits alone and resynchronises, the other stays primary.
import assert from "node:assert/strict";
import { skipUnless } from "../support/privileges.ts";
import { withNodes } from "./node_harness.ts";
import { establishPair, MODULE, setupMirror, waitState } from "./mirror_harness.ts";

const skip = skipUnless({ root: true, commands: ["nft"] });

async function nft(script: string): Promise<void> {
  const p = new Deno.Command("nft", { args: ["-f", "-"], stdin: "piped", stderr: "piped" }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const out = await p.output();
  if (!out.success) throw new Error(`nft failed: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test({
  name: "mirror: total heartbeat loss makes both ALONE; on reconnection the former SECOND exits alone",
  ignore: skip !== null,
  async fn() {
    const table = `safekit_test_${crypto.randomUUID().slice(0, 8)}`;
    await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
      await setupMirror(n1, n2, root);
      await establishPair(n1, n2);
      // Heartbeats are UDP 8888 (module id 1) between the two addresses; drop them both ways.
      await nft(`table inet ${table} {
  chain input {
    type filter hook input priority -10; policy accept;
    ip saddr 127.0.0.2 ip daddr 127.0.0.3 udp dport 8888 drop
    ip saddr 127.0.0.3 ip daddr 127.0.0.2 udp dport 8888 drop
  }
}
`);
      try {
        await waitState(n2, "ALONE Ready", 10_000);
        await waitState(n1, "ALONE Ready", 10_000);
      } finally {
        await nft(`delete table inet ${table}\n`);
      }
      await waitState(n2, "SECOND Ready", 15_000);
      await waitState(n1, "PRIM Ready", 10_000);
      assert.match(await n2.ok("log", "-m", MODULE), /Split brain recovery: exiting alone/);
      assert.match(await n1.ok("log", "-m", MODULE), /Split brain recovery: staying alone/);
    }).finally(() => nft(`delete table inet ${table}\n`).catch(() => {}));
  },
});
