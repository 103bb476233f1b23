// The text/event-stream wire format (WHATWG HTML §9.2): what the node writes and what the bench and tests
// read back. Pure, so the framing is tested without a server.

/** One named event. Data lines cannot hold a newline, so multi-line data is split into several `data:`. */
export function sseEvent(event: string, data: string, id?: number): string {
  const lines = [`event: ${event}`];
  if (id !== undefined) lines.push(`id: ${id}`);
  for (const line of data.split(/\r\n|\r|\n/)) lines.push(`data: ${line}`);
  return lines.join("\n") + "\n\n";
}

/** A comment line: ignored by EventSource, but it keeps proxies and idle timers from closing the stream. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** How long the browser waits before reconnecting after the stream drops. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

export type ParsedSseEvent = { readonly event: string; readonly data: string; readonly id?: string };

/**
 * Incremental parser for a client that is not a browser (the bench, the tests): feed it chunks of text, it
 * returns the events completed so far and keeps the rest. Comments and retry lines are dropped.
 */
export class SseParser {
  #buffer = "";

  push(chunk: string): ParsedSseEvent[] {
    this.#buffer += chunk;
    const out: ParsedSseEvent[] = [];
    let end: number;
    while ((end = this.#buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      let event = "message";
      let id: string | undefined;
      const data: string[] = [];
      let any = false;
      for (const line of block.split(/\r?\n/)) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") {
          data.push(value);
          any = true;
        } else if (field === "id") id = value;
      }
      if (any) out.push({ event, data: data.join("\n"), ...(id !== undefined ? { id } : {}) });
    }
    return out;
  }
}
