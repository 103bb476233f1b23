// Lab TCP service: answers each connection with its node name, then keeps it open until the peer closes
// (so a test can hold an established connection), echoing what it receives. Prints "ready" once listening.
const [name, port, hostname = "0.0.0.0"] = Deno.args; // "::" listens on IPv6 and IPv4
const listener = Deno.listen({ hostname, port: Number(port) });
console.log("ready");
const enc = new TextEncoder();
for await (const c of listener) {
  (async () => {
    try {
      await c.write(enc.encode(name));
      const buf = new Uint8Array(64);
      for (let n; (n = await c.read(buf)) !== null;) await c.write(buf.subarray(0, n)); // echo
    } catch { /* reset by the test: expected */ }
    try {
      c.close();
    } catch { /* already closed */ }
  })();
}
