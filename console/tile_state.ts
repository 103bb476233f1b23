/// <reference lib="dom" />
// What a monitoring tile shows for a module on a node (spec §2.1): the synthetic state, its colour and the
// detailed state next to it. Pure, so the colour table is tested without a browser.

export type ModuleState = { readonly local: string; readonly qualifier: string; readonly remote?: string };
export type TileColour = "green" | "orange" | "red" | "grey";
export type TileView = { readonly label: string; readonly colour: TileColour; readonly detail: string };

export function tileView(
  mode: string,
  state: ModuleState | null,
  resources: Readonly<Record<string, string>> = {},
  error?: string,
): TileView {
  if (error) return { label: "ERROR", colour: "red", detail: "connection error" };
  if (!state) return { label: "NOT CONFIGURED", colour: "grey", detail: "" };
  const label = `${state.local} (${state.qualifier})`;
  return { label, colour: colourOf(state), detail: detailOf(mode, state, resources) };
}

export function colourOf(state: ModuleState): TileColour {
  if (state.local === "STOP") return "red";
  if (state.qualifier === "NotReady") return "red";
  if (state.qualifier === "Transient") return "orange";
  return "green";
}

function detailOf(mode: string, state: ModuleState, resources: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  if (mode === "mirror") {
    const uptodate = resources["rfs.uptodate"];
    if (state.local === "ALONE" && state.qualifier === "Ready") parts.push("degraded");
    else if (uptodate === "up") parts.push("uptodate");
    else if (uptodate === "down") parts.push("not uptodate");
  }
  if (mode === "farm" && resources["FarmProto_0"] !== undefined) {
    const share = resources["FarmProto_0"];
    parts.push(/^\d+$/.test(share) ? `${share}%` : share);
  }
  if (resources["usersetting.checker"] === "off") parts.push("checkers off");
  if (resources["usersetting.errd"] === "off") parts.push("process monitoring off");
  return parts.join(", ");
}

/** Control and Admin act on modules (spec §9.1); Monitor only reads. */
export function canAct(role: string): boolean {
  return role === "Control" || role === "Admin";
}

/** Configuration pages are for Admin only (spec §9.3). */
export function canConfigure(role: string): boolean {
  return role === "Admin";
}
