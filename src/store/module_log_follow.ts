// `safekit logview`: a real-time tail of the module log. Other processes append to the same file, so
// the follower polls by id (cheap: an indexed range read) rather than waiting for a notification.
import type { ModuleLog, ModuleLogFilter, ModuleLogRow } from "./module_log.ts";

export type FollowOptions = ModuleLogFilter & {
  /** Yield rows with a greater id. Default: the log's current last id, i.e. only new rows. */
  readonly afterId?: number;
  /** Pause between polls when nothing new was found (default 500 ms). */
  readonly intervalMs?: number;
  /** Rows read per poll (default 1000); a full batch is followed by another read at once. */
  readonly batch?: number;
  /** Ends the iteration (also while it is waiting). */
  readonly signal?: AbortSignal;
};

export async function* followModuleLog(log: ModuleLog, options: FollowOptions): AsyncGenerator<ModuleLogRow> {
  const { signal, intervalMs = 500, batch = 1000 } = options;
  let cursor = options.afterId ?? log.lastId();
  while (!signal?.aborted) {
    const rows = log.readAfter(cursor, options, batch);
    for (const row of rows) {
      cursor = row.id;
      yield row;
      if (signal?.aborted) return;
    }
    if (rows.length < batch) await pause(intervalMs, signal);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
