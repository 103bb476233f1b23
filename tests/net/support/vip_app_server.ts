// The application a module's start script runs: a TCP server bound to the VIP (so it can only start once
// the node service has set the address) that answers each connection with its node name and closes. It
// keeps the number of connections it accepted in COUNT_FILE (rewritten at most every 100 ms), so a test
// can check that each client connection was accepted by exactly one node.
const [host, port, name, countFile] = Deno.args;
const listener = Deno.listen({ hostname: host, port: Number(port) });
const answer = new TextEncoder().encode(name);
let accepted = 0;
let written = -1;
setInterval(() => {
  if (accepted === written) return;
  written = accepted;
  Deno.writeTextFileSync(`${countFile}.tmp`, String(accepted));
  Deno.renameSync(`${countFile}.tmp`, countFile);
}, 100);
for await (const c of listener) {
  accepted++;
  c.write(answer).catch(() => {}).finally(() => {
    try {
      c.close();
    } catch { /* closed by the peer */ }
  });
}
