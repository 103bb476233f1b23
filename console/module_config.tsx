/// <reference lib="dom" />
// Module configuration (Admin): the installed modules, installing one from an uploaded .safe or from a
// template of SAFE/Application_Modules, and a form for the essentials of a module's userconfig.xml that
// edits the XML itself (userconfig_doc.ts), checked by the node before it is saved, then applied.
import { useEffect, useState } from "preact/hooks";
import { act, api } from "./api.ts";
import { hashOf } from "./routes.ts";
import {
  type Checker,
  type Essentials,
  newChecker,
  parseUserconfig,
  readEssentials,
  serialiseUserconfig,
  writeEssentials,
} from "./userconfig_doc.ts";

type InstalledModule = {
  name: string;
  id: number;
  mode: string;
  configured: boolean;
  state: { local: string } | null;
};
type Template = { name: string; group: string };

export function Modules() {
  const [modules, setModules] = useState<InstalledModule[] | null>(null);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [status, setStatus] = useState("");
  const load = () => {
    api<InstalledModule[]>("GET", "/api/v1/modules").then(setModules).catch((e) => setStatus(e.message));
    api<Template[]>("GET", "/api/v1/templates").then(setTemplates).catch(() => setTemplates([]));
  };
  useEffect(load, []);

  const install = async (name: string, body: Uint8Array | null, from: string) => {
    setStatus(`Installing ${name}…`);
    const ok = await act(
      `Install ${name}`,
      () =>
        api("POST", `/api/v1/modules?name=${encodeURIComponent(name)}`, undefined, {
          bytes: body ?? new Uint8Array(),
        }),
    );
    setStatus(ok ? `Module ${name} installed from ${from}; edit and apply its configuration below.` : "");
    load();
  };

  const onUpload = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const file = (form.elements.namedItem("file") as HTMLInputElement).files?.[0];
    const name = (form.elements.namedItem("name") as HTMLInputElement).value.trim() ||
      (file?.name.replace(/\.(safe|zip)$/i, "") ?? "");
    if (!file || !name) return setStatus("Choose a .safe file (and a module name).");
    await install(name, new Uint8Array(await file.arrayBuffer()), file.name);
  };

  const onTemplate = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const template = (form.elements.namedItem("template") as HTMLSelectElement).value;
    const name = (form.elements.namedItem("name") as HTMLInputElement).value.trim() || template;
    if (!template) return;
    if (name !== template) {
      return setStatus("A template installs under its own name (the node looks it up by name).");
    }
    await install(name, null, `template ${template}`);
  };

  return (
    <section aria-labelledby="mods-title">
      <h2 id="mods-title">Modules</h2>
      {status && <p role="status" id="modules-status">{status}</p>}
      <div class="table-wrap">
        <table class="modules">
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">Mode</th>
              <th scope="col">Id</th>
              <th scope="col">State here</th>
            </tr>
          </thead>
          <tbody>
            {(modules ?? []).map((m) => (
              <tr key={m.name}>
                <td>
                  <a href={hashOf({ kind: "module-config", module: m.name })}>{m.name}</a>
                </td>
                <td>{m.mode}</td>
                <td>{m.id}</td>
                <td>{m.configured ? m.state?.local ?? "" : "not configured"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Install a module</h3>
      <form class="install" onSubmit={onUpload} aria-label="install from a .safe file">
        <label for="install-file">Module file (.safe)</label>
        <input id="install-file" name="file" type="file" accept=".safe,.zip" />
        <label for="install-name">Name</label>
        <input
          id="install-name"
          name="name"
          type="text"
          pattern="[A-Za-z0-9_\-]{1,64}"
          placeholder="from the file name"
        />
        <button type="submit">Install</button>
      </form>
      <form class="install" onSubmit={onTemplate} aria-label="install from a template">
        <label for="install-template">Template</label>
        <select id="install-template" name="template" disabled={templates.length === 0}>
          {templates.length === 0 && <option value="">no .safe under SAFE/Application_Modules</option>}
          {templates.map((t) => (
            <option key={`${t.group}/${t.name}`} value={t.name}>{t.group}/{t.name}</option>
          ))}
        </select>
        <input name="name" type="hidden" value="" />
        <button type="submit" disabled={templates.length === 0}>Install template</button>
      </form>
    </section>
  );
}

type Verdict = { kind: "idle" | "busy" | "ok" | "error"; message: string };

export function ModuleConfig(props: { module: string }) {
  const { module } = props;
  const [xml, setXml] = useState<string | null>(null);
  const [verdict, setVerdict] = useState<Verdict>({ kind: "idle", message: "" });
  const path = `/api/v1/modules/${encodeURIComponent(module)}`;
  useEffect(() => {
    api<string>("GET", `${path}/userconfig`, undefined, { text: true })
      .then(setXml)
      .catch((e) => setVerdict({ kind: "error", message: (e as Error).message }));
  }, [module]);

  let ess: Essentials | null = null;
  let parseError: string | null = null;
  if (xml !== null) {
    try {
      ess = readEssentials(parseUserconfig(xml));
    } catch (e) {
      parseError = (e as Error).message;
    }
  }
  /** Applies a change of the form to the XML text: parse, change only the shown fields, serialise. */
  const change = (f: (e: Essentials) => void) => {
    if (xml === null) return;
    const p = parseUserconfig(xml);
    const e = readEssentials(p);
    f(e);
    writeEssentials(p, e);
    setXml(serialiseUserconfig(p));
    setVerdict({ kind: "idle", message: "Changed, not saved." });
  };

  const run = async (label: string, call: () => Promise<string>) => {
    setVerdict({ kind: "busy", message: `${label}…` });
    try {
      setVerdict({ kind: "ok", message: await call() });
    } catch (e) {
      setVerdict({ kind: "error", message: (e as Error).message });
    }
  };
  const save = () =>
    run("Checking and saving", async () => {
      const r = await api<{ warnings?: string[] }>("PUT", `${path}/userconfig`, undefined, {
        raw: xml ?? "",
      });
      return `Saved in SAFE/modules/${module} after the node's check.${
        fmtWarnings(r.warnings)
      } Apply it to use it.`;
    });
  const applyHere = () =>
    run("Applying on this node", async () => {
      const r = await api<{ warnings?: string[] }>("POST", `${path}/config`, {});
      return `Applied on this node.${fmtWarnings(r.warnings)}`;
    });
  const applyAll = () =>
    run("Applying on every node", async () => {
      type Result = { node: string; ok: boolean; message: string };
      let results: Result[];
      try {
        results = (await api<{ results: Result[] }>("POST", `${path}/distribute`, {})).results;
      } catch (e) {
        throw new Error(`Apply on all nodes: ${(e as Error).message}`);
      }
      return results.map((r) => `${r.node}: ${r.message}`).join("\n");
    });

  return (
    <section aria-labelledby="uc-title">
      <nav class="breadcrumb" aria-label="breadcrumb">
        <a href={hashOf({ kind: "modules" })}>Modules</a> › {module}
      </nav>
      <h2 id="uc-title">Configuration of {module}</h2>
      <p>
        The form changes only the fields it shows; everything else in userconfig.xml (rules, comments, other
        elements) is kept as written. Save checks it on the node first; a module must be stopped to apply.
      </p>
      {parseError && <p class="verdict-error" role="alert">{parseError}</p>}
      {ess && <EssentialsForm ess={ess} change={change} />}
      <details class="advanced">
        <summary>Advanced configuration (XML)</summary>
        <label for="uc-xml">userconfig.xml</label>
        <textarea
          id="uc-xml"
          spellcheck={false}
          rows={18}
          value={xml ?? ""}
          onInput={(e) => setXml((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </details>
      <div class="toolbar">
        <button type="button" id="uc-save" onClick={save} disabled={xml === null || !!parseError}>
          Save and check
        </button>
        <button type="button" id="uc-apply" onClick={applyHere}>Apply on this node</button>
        <button type="button" id="uc-apply-all" onClick={applyAll}>Apply on all nodes</button>
      </div>
      <p id="uc-verdict" class={`verdict verdict-${verdict.kind}`} role="status">{verdict.message}</p>
    </section>
  );
}

function fmtWarnings(w: readonly string[] | undefined): string {
  return w && w.length ? ` Warnings: ${w.join("; ")}.` : "";
}

function Field(
  props: { id: string; label: string; value: string; onChange: (v: string) => void; hint?: string },
) {
  return (
    <span class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        value={props.value}
        placeholder={props.hint}
        onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).value)}
      />
    </span>
  );
}

function EssentialsForm(props: { ess: Essentials; change: (f: (e: Essentials) => void) => void }) {
  const { ess, change } = props;
  return (
    <form class="userconfig" onSubmit={(e) => e.preventDefault()}>
      {ess.heart && (
        <fieldset>
          <legend>Heartbeats</legend>
          <Field
            id="uc-pulse"
            label="Pulse"
            hint="700ms"
            value={ess.heart.pulse}
            onChange={(v) => change((e) => (e.heart!.pulse = v))}
          />
          <Field
            id="uc-timeout"
            label="Timeout"
            hint="30000ms"
            value={ess.heart.timeout}
            onChange={(v) => change((e) => (e.heart!.timeout = v))}
          />
          {ess.heart.heartbeats.map((h, i) => (
            <div class="row" key={i}>
              <Field
                id={`uc-hb-${i}`}
                label="Network (lan name)"
                value={h.name}
                onChange={(v) => change((e) => (e.heart!.heartbeats[i].name = v))}
              />
              <Field
                id={`uc-hb-ident-${i}`}
                label="Ident"
                value={h.ident}
                onChange={(v) => change((e) => (e.heart!.heartbeats[i].ident = v))}
              />
              <button
                type="button"
                aria-label={`Remove heartbeat ${h.name}`}
                onClick={() => change((e) => e.heart!.heartbeats.splice(i, 1))}
              >
                Remove
              </button>
            </div>
          ))}
          <button
            type="button"
            onClick={() => change((e) => e.heart!.heartbeats.push({ name: "default", ident: "" }))}
          >
            Add heartbeat
          </button>
        </fieldset>
      )}
      <fieldset>
        <legend>Virtual IP addresses</legend>
        {ess.vips.map((v, i) => (
          <div class="row" key={i}>
            <Field
              id={`uc-vip-${i}`}
              label="Address"
              value={v}
              onChange={(val) => change((e) => (e.vips[i] = val))}
            />
            <button
              type="button"
              aria-label={`Remove virtual IP ${v}`}
              onClick={() => change((e) => e.vips.splice(i, 1))}
            >
              Remove
            </button>
          </div>
        ))}
        <NewValue id="uc-vip-new" label="New virtual IP" onAdd={(v) => change((e) => e.vips.push(v))} />
      </fieldset>
      {ess.mode === "mirror" && (
        <fieldset>
          <legend>Replicated directories</legend>
          {ess.replicated.map((r, i) => (
            <div class="row" key={i}>
              <Field
                id={`uc-dir-${i}`}
                label="Directory"
                value={r.dir}
                onChange={(v) => change((e) => (e.replicated[i].dir = v))}
              />
              <Field
                id={`uc-dir-mode-${i}`}
                label="Mode"
                hint="read_only"
                value={r.mode}
                onChange={(v) => change((e) => (e.replicated[i].mode = v))}
              />
              <button
                type="button"
                aria-label={`Remove ${r.dir}`}
                onClick={() => change((e) => e.replicated.splice(i, 1))}
              >
                Remove
              </button>
            </div>
          ))}
          <NewValue
            id="uc-dir-new"
            label="New replicated directory"
            onAdd={(v) => change((e) => e.replicated.push({ dir: v, mode: "" }))}
          />
        </fieldset>
      )}
      <fieldset>
        <legend>Checkers</legend>
        {ess.checkers.map((c, i) => <CheckerRow key={i} c={c} i={i} change={change} />)}
        <div class="row">
          {(["tcp", "ping", "custom", "module"] as const).map((t) => (
            <button
              type="button"
              key={t}
              onClick={() => change((e) => e.checkers.push(newChecker(t)))}
            >
              Add {t} checker
            </button>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Scripts</legend>
        <label>
          <input
            type="checkbox"
            id="uc-scripts"
            checked={ess.scripts.enabled}
            onChange={(ev) =>
              change((e) => (e.scripts.enabled = (ev.currentTarget as HTMLInputElement).checked))}
          />{" "}
          Run the module's scripts (&lt;user&gt;)
        </label>
        {ess.scripts.enabled && (
          <>
            <Field
              id="uc-nicestop"
              label="Stop timeout"
              hint="300s"
              value={ess.scripts.nicestoptimeout}
              onChange={(v) => change((e) => (e.scripts.nicestoptimeout = v))}
            />
            <Field
              id="uc-forcestop"
              label="Forced stop timeout"
              hint="300s"
              value={ess.scripts.forcestoptimeout}
              onChange={(v) => change((e) => (e.scripts.forcestoptimeout = v))}
            />
          </>
        )}
      </fieldset>
    </form>
  );
}

function CheckerRow(props: { c: Checker; i: number; change: (f: (e: Essentials) => void) => void }) {
  const { c, i, change } = props;
  const label = c.attrs.ident || c.attrs.name || `#${i + 1}`;
  return (
    <div class="checker" data-type={c.type}>
      <strong>{c.type}</strong>
      {Object.entries(c.attrs).map(([k, v]) => (
        <Field
          key={k}
          id={`uc-ck-${i}-${k}`}
          label={k}
          value={v}
          onChange={(val) => change((e) => (e.checkers[i].attrs[k] = val))}
        />
      ))}
      {c.to &&
        Object.entries(c.to).map(([k, v]) => (
          <Field
            key={`to-${k}`}
            id={`uc-ck-${i}-to-${k}`}
            label={`to ${k}`}
            value={v}
            onChange={(val) => change((e) => (e.checkers[i].to![k] = val))}
          />
        ))}
      <button
        type="button"
        aria-label={`Remove ${c.type} checker ${label}`}
        onClick={() => change((e) => e.checkers.splice(i, 1))}
      >
        Remove
      </button>
    </div>
  );
}

function NewValue(props: { id: string; label: string; onAdd: (v: string) => void }) {
  const [v, setV] = useState("");
  return (
    <div class="row">
      <span class="field">
        <label for={props.id}>{props.label}</label>
        <input
          id={props.id}
          type="text"
          value={v}
          onInput={(e) => setV((e.currentTarget as HTMLInputElement).value)}
        />
      </span>
      <button
        type="button"
        onClick={() => {
          if (v.trim()) props.onAdd(v.trim());
          setV("");
        }}
      >
        Add
      </button>
    </div>
  );
}
