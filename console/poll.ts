/// <reference lib="dom" />
// Live updates: the page asks again every 2 s (the node has no push channel). One request at a time, so a
// slow node never piles requests up; a hidden tab stops asking.
import { useEffect, useRef, useState } from "preact/hooks";

export const POLL_MS = 2000;

export type Polled<T> = { data: T | null; error: string | null; refresh: () => void };

export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs = POLL_MS): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    setData(null);
    setError(null);
  }, deps);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (stopped) return;
      if (document.visibilityState !== "hidden") {
        try {
          const d = await loadRef.current();
          if (!stopped) {
            setData(d);
            setError(null);
          }
        } catch (e) {
          if (!stopped) setError((e as Error).message);
        }
      }
      if (!stopped) timer = setTimeout(run, everyMs);
    };
    run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { data, error, refresh: () => setTick((t) => t + 1) };
}
