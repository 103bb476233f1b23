/// <reference lib="dom" />
// The monitoring data, pushed: an EventSource on /api/v1/events (event `modules`, the JSON of
// /api/v1/cluster/modules). When the stream fails (refused with 503, a proxy that buffers, the node
// restarting) the page polls every 2 s instead and tries the stream again after a while; the header shows
// which of the two is in use.
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.ts";
import { POLL_MS } from "./poll.ts";

export type FeedMode = "connecting" | "live" | "polling";
/** What the header shows: "live" while the stream delivers, "polling" while the page asks every 2 s. */
export const feedMode = signal<FeedMode>("connecting");

/** How long the page polls before it tries the stream again. */
const RETRY_STREAM_MS = 30_000;
/** A stream that does not open within this delay counts as failed (a proxy holding it, for instance). */
const OPEN_TIMEOUT_MS = 5_000;

export type Feed<T> = { data: T | null; error: string | null; refresh: () => void };

export function useLiveFeed<T>(streamUrl: string, event: string, pollPath: string): Feed<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pollNow = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pollUntil = 0;

    const poll = async () => {
      clearTimeout(timer);
      if (stopped) return;
      if (Date.now() >= pollUntil) return openStream();
      if (document.visibilityState !== "hidden") {
        try {
          const d = await api<T>("GET", pollPath);
          if (!stopped) {
            setData(d);
            setError(null);
          }
        } catch (e) {
          if (!stopped) setError((e as Error).message);
        }
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };

    const fallBack = () => {
      source?.close();
      source = null;
      if (stopped) return;
      feedMode.value = "polling";
      pollUntil = Date.now() + RETRY_STREAM_MS;
      void poll();
    };

    const openStream = () => {
      clearTimeout(timer);
      if (stopped) return;
      if (typeof EventSource === "undefined") {
        pollUntil = Infinity;
        return fallBack();
      }
      feedMode.value = "connecting";
      const es = new EventSource(streamUrl, { withCredentials: true });
      source = es;
      timer = setTimeout(() => source === es && feedMode.value !== "live" && fallBack(), OPEN_TIMEOUT_MS);
      es.addEventListener(event, (m) => {
        if (source !== es) return;
        try {
          setData(JSON.parse((m as MessageEvent<string>).data) as T);
          setError(null);
          feedMode.value = "live";
        } catch (e) {
          setError(`bad event from the node: ${(e as Error).message}`);
        }
      });
      // The node ends each stream after a few minutes (so the login is checked again) and EventSource
      // reconnects by itself: that is fine as long as it opens again soon. A refused stream (401, 503:
      // readyState CLOSED) or one that does not come back is better served by polling, which also reports
      // the node's own error message (and a 401 brings back the login page).
      es.onerror = () => {
        if (source !== es) return;
        if (es.readyState === EventSource.CLOSED) return fallBack();
        clearTimeout(timer);
        timer = setTimeout(
          () => source === es && es.readyState !== EventSource.OPEN && fallBack(),
          OPEN_TIMEOUT_MS,
        );
      };
    };

    pollNow.current = () => {
      if (source === null) void poll();
    };
    openStream();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
      feedMode.value = "connecting";
    };
  }, [streamUrl, event, pollPath]);

  return { data, error, refresh: () => pollNow.current() };
}
