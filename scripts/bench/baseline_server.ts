// The baseline the probe is compared with: a bare Deno.serve answering a constant 404 with the same body and
// headers as the probe's NotReady answer. Run as its own process, like the node service.
// Usage: deno run -A baseline_server.ts <127.x.y.z> <port>
const [hostname, port] = Deno.args;
if (!/^127\.\d+\.\d+\.\d+$/.test(hostname ?? "")) {
  throw new Error("the baseline server only listens on 127.0.0.0/8");
}
const headers = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };
Deno.serve(
  { hostname, port: Number(port), onListen: () => console.log("listening") },
  () => new Response("NOT FOUND\n", { status: 404, headers }),
);
