// <module> checker (spec §4.11): watches another module through a node's web service. The resource is up
// while GET http://<addr>:<port>/var/modules/<name>/ready.txt answers 200 (the module is ALONE/PRIM or UP
// Ready), down otherwise, and the failover machine makes the module wait (module_failure) while it is down.
// SafeKit also does a stopstart when the other module restarted or failed over ("Action stopstart called by
// modulecheck"). A restart is recognised as readiness coming back after it had been seen (up, then down,
// then up), or as a change of the probe's ETag while up: our node services send `"ready-<epoch ms>"`, the
// moment the module last became ready, so even a restart shorter than one interval is seen. (A server without
// ETag or Last-Modified only shows the restarts that last longer than an interval.)
import { errorText, PeriodicChecker, type ProbeResult } from "./checker.ts";

export type ModuleTarget = {
  readonly addr: string;
  readonly port: number;
  readonly secure: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
};

export type ReadinessState = {
  readonly everReady: boolean;
  readonly ready: boolean;
  readonly tag: string | null;
};
export const INITIAL_READINESS: ReadinessState = { everReady: false, ready: false, tag: null };

/** Pure: folds one probe into the readiness history and says whether it shows a restart of the other module. */
export function readinessStep(
  state: ReadinessState,
  probe: { readonly ready: boolean; readonly tag: string | null },
): { state: ReadinessState; restarted: boolean } {
  const backUp = probe.ready && !state.ready && state.everReady;
  const tagChanged = probe.ready && state.ready && probe.tag !== null && state.tag !== null &&
    probe.tag !== state.tag;
  return {
    state: {
      everReady: state.everReady || probe.ready,
      ready: probe.ready,
      tag: probe.ready ? probe.tag : null,
    },
    restarted: backUp || tagChanged,
  };
}

export function readyUrl(name: string, to: Pick<ModuleTarget, "addr" | "port" | "secure">): string {
  const host = to.addr.includes(":") && !to.addr.startsWith("[") ? `[${to.addr}]` : to.addr;
  return `${to.secure ? "https" : "http"}://${host}:${to.port}/var/modules/${
    encodeURIComponent(name)
  }/ready.txt`;
}

export function moduleChecker(
  resource: string,
  name: string,
  to: ModuleTarget,
  opts: { onRestarted?: (resource: string) => void; client?: Deno.HttpClient; caCertFile?: string } = {},
): PeriodicChecker {
  const url = readyUrl(name, to);
  let history = INITIAL_READINESS;
  let client = opts.client;
  const probe = async (signal: AbortSignal): Promise<ProbeResult> => {
    if (!client && opts.caCertFile) {
      // Read when first needed (the certificates may be installed after the module was configured).
      const pem = await Deno.readTextFile(opts.caCertFile).catch(() => null);
      if (pem === null) {
        return { up: false, detail: `module ${name}: secure="on" but no cluster CA at ${opts.caCertFile}` };
      }
      client = Deno.createHttpClient({ caCerts: [pem] });
    }
    const seen = await fetchReadiness(url, signal, client);
    // A probe cut by stop() or by its timeout is not history: only answers (and refusals) are.
    if (!signal.aborted) {
      const step = readinessStep(history, seen);
      history = step.state;
      if (step.restarted) opts.onRestarted?.(resource);
    }
    return seen.ready
      ? { up: true }
      : { up: false, detail: `module ${name} not ready at ${to.addr}: ${seen.why}` };
  };
  return new PeriodicChecker(resource, probe, to.intervalMs, to.timeoutMs);
}

async function fetchReadiness(
  url: string,
  signal: AbortSignal,
  client?: Deno.HttpClient,
): Promise<{ ready: boolean; tag: string | null; why: string }> {
  try {
    const res = await fetch(url, { signal, client, redirect: "manual" });
    await res.body?.cancel();
    const tag = res.headers.get("etag") ?? res.headers.get("last-modified");
    return { ready: res.status === 200, tag, why: `HTTP ${res.status}` };
  } catch (e) {
    return { ready: false, tag: null, why: errorText(e) };
  }
}
