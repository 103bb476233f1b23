// Closes the debugger door. Deno (2.9.2+) opens an unauthenticated V8 inspector on 127.0.0.1:9229 when a
// `deno run` process receives SIGUSR1, and a JS signal listener does not prevent it. A node service runs as
// root, so a stray `kill -USR1` (log-rotation habits) would hand root to every local user.
// Two guards, both needed (reference/deno-stack-verification.md §6):
//  1. hold 127.0.0.1:9229 ourselves, so the inspector cannot bind even inside the start-up window;
//  2. set SIGUSR1 to SIG_IGN through libc once Deno has installed its own handler (~500 ms after start),
//     repeated for a few seconds because that moment is not observable.

const SIG_IGN = 1n;

function libcFor(os: typeof Deno.build.os): { path: string; sigusr1: number } | null {
  if (os === "linux") return { path: "libc.so.6", sigusr1: 10 };
  if (os === "darwin") return { path: "libSystem.dylib", sigusr1: 30 };
  return null; // Windows has no SIGUSR1.
}

export type Sigusr1Guard = { readonly holdsPort: boolean; close(): void };

export function guardSigusr1(): Sigusr1Guard {
  const libc = libcFor(Deno.build.os);
  if (!libc) return { holdsPort: false, close() {} };

  let listener: Deno.Listener | null = null;
  try {
    listener = Deno.listen({ hostname: "127.0.0.1", port: 9229 });
    const l = listener;
    (async () => {
      try {
        for await (const conn of l) conn.close();
      } catch { /* closed */ }
    })();
  } catch {
    // Another process holds the port (another node service on this host, typically): the inspector cannot
    // bind there either, and the signal guard below still applies.
  }

  const lib = Deno.dlopen(libc.path, { signal: { parameters: ["i32", "usize"], result: "usize" } });
  let calls = 0;
  const ignore = () => lib.symbols.signal(libc.sigusr1, SIG_IGN);
  ignore();
  const timer = setInterval(() => {
    ignore();
    if (++calls >= 100) clearInterval(timer);
  }, 50);
  Deno.unrefTimer(timer);

  return {
    holdsPort: listener !== null,
    close() {
      clearInterval(timer);
      try {
        listener?.close();
      } catch { /* already closed */ }
    },
  };
}
