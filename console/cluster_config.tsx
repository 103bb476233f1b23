/// <reference lib="dom" />
// The cluster.xml editor (Configuration, Admin only): the text is checked by the node as it is typed
// (POST /api/v1/cluster/confcheck, nothing is applied), and an error is shown with its line marked.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError } from "./api.ts";
import { errorPlace } from "./confcheck_error.ts";

type Verdict =
  | { kind: "checking" }
  | { kind: "ok"; nodes: string[]; warnings: string[] }
  | { kind: "error"; message: string; line: number | null };

const CHECK_DELAY_MS = 300;

export function ClusterConfig() {
  const [text, setText] = useState<string | null>(null);
  const [verdict, setVerdict] = useState<Verdict>({ kind: "checking" });
  const seq = useRef(0);
  const gutter = useRef<HTMLOListElement>(null);

  useEffect(() => {
    api<string>("GET", "/api/v1/cluster/xml", undefined, { text: true })
      .then(setText)
      .catch((e) => {
        if (e instanceof ApiError && e.status === 404) setText(TEMPLATE);
        else setVerdict({ kind: "error", message: (e as Error).message, line: null });
      });
  }, []);

  useEffect(() => {
    if (text === null) return;
    const mine = ++seq.current;
    setVerdict({ kind: "checking" });
    const timer = setTimeout(async () => {
      try {
        const r = await api<{ nodes: string[]; warnings: string[] }>(
          "POST",
          "/api/v1/cluster/confcheck",
          undefined,
          { raw: text },
        );
        if (mine === seq.current) setVerdict({ kind: "ok", nodes: r.nodes, warnings: r.warnings ?? [] });
      } catch (e) {
        if (mine !== seq.current) return;
        const message = (e as Error).message;
        setVerdict({ kind: "error", message, line: errorPlace(message)?.line ?? null });
      }
    }, CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const lines = (text ?? "").split("\n").length;
  const badLine = verdict.kind === "error" ? verdict.line : null;
  return (
    <section aria-labelledby="cfg-title">
      <h2 id="cfg-title">Cluster configuration</h2>
      <p>
        The node checks the text as you type; nothing is applied. Apply it with{" "}
        <code>safekit cluster config</code> and <code>safekit -H "*" -G</code>.
      </p>
      <label for="cluster-xml">cluster.xml</label>
      <div class="editor">
        <ol class="gutter" ref={gutter} aria-hidden="true">
          {Array.from(
            { length: lines },
            (_, i) => <li key={i} class={i + 1 === badLine ? "bad" : ""}>{i + 1}</li>,
          )}
        </ol>
        <textarea
          id="cluster-xml"
          spellcheck={false}
          wrap="off"
          rows={Math.min(Math.max(lines + 1, 8), 30)}
          value={text ?? ""}
          disabled={text === null}
          aria-invalid={verdict.kind === "error"}
          aria-describedby="confcheck"
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = (e.currentTarget as HTMLTextAreaElement).scrollTop;
          }}
        />
      </div>
      <div id="confcheck" role="status" aria-live="polite" class={`verdict verdict-${verdict.kind}`}>
        {verdict.kind === "checking" && "Checking…"}
        {verdict.kind === "ok" && (
          <>
            Valid: nodes {verdict.nodes.join(", ")}
            {verdict.warnings.map((w) => <div key={w} class="warning">Warning: {w}</div>)}
          </>
        )}
        {verdict.kind === "error" && (
          <>
            {verdict.line !== null && <strong class="error-line">Line {verdict.line}:</strong>}{" "}
            {verdict.message}
          </>
        )}
      </div>
    </section>
  );
}

const TEMPLATE = `<cluster>
  <lans>
    <lan name="default">
      <node name="node1" addr="192.168.1.10"/>
      <node name="node2" addr="192.168.1.11"/>
    </lan>
  </lans>
</cluster>
`;
