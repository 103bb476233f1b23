// The primary's zone tracking for one replicated directory (spec §7.2 case 2), fed by the sink wrapper of
// primary_process.ts with every op in the order the FUSE server applied them.
//
// - While the secondary is not in sync (ALONE, or connected but still reintegrating), every op is recorded
//   in the persistent map.
// - Every op is also recorded in a "recent" window covering the last 30-60 s (two rotating maps). When the
//   secondary is lost, the window is merged into the map: ops it acknowledged on receipt (async="second")
//   but had not yet written when it stopped are then copied again at its next reintegration.
// - When the secondary reports "synced", the map is cleared and its generation bumped: the secondary
//   records that generation and uses the map at its next reintegration only if it still matches. The
//   window is cleared too (what came before the sync point was copied by the reintegration itself), except
//   the ops of the last seconds: "synced" takes a round trip to arrive, and ops sent meanwhile may still
//   sit unwritten in the secondary's queue.
// - The file on disk says "not clean" from start() until close() writes the whole map (see zone_store.ts).

import { ZoneMap } from "./zone_map.ts";
import { encodeZoneFile, loadZoneState, writeFileDurably, type ZoneState } from "./zone_store.ts";
import { type DirExtras, encodeZoneAnswer } from "./zone_query.ts";
import type { TreeOp } from "../tree_op.ts";

const TAIL_MS = 2000;

/** The op as far as zones go: a write's data is not kept, only its range. */
function lighten(op: TreeOp): TreeOp {
  return op.kind === "write"
    ? { kind: "fallocate", path: op.path, mode: 0, offset: op.offset, length: op.data.length }
    : op.kind === "setxattr"
    ? { kind: "removexattr", path: op.path, name: op.name }
    : op;
}

export class ZoneTracker {
  readonly state: ZoneState;
  #recent: ZoneMap;
  #previous: ZoneMap;
  #closed = false;
  /** ops of the last TAIL_MS (without their data), kept across a sync point */
  #tail: { at: number; op: TreeOp }[] = [];

  private constructor(readonly file: string, zoneSize: number) {
    this.state = loadZoneState(file, zoneSize);
    this.#recent = new ZoneMap(zoneSize);
    this.#previous = new ZoneMap(zoneSize);
  }

  /** Loads the map of `file` and marks the file "not clean" durably, before any write is accepted. */
  static start(file: string, zoneSize: number): ZoneTracker {
    const t = new ZoneTracker(file, zoneSize);
    writeFileDurably(file, encodeZoneFile(t.state, false));
    return t;
  }

  /**
   * One op applied to the primary's tree. `inSync`: the secondary is connected and synced; `sent`: it is
   * connected (the op goes out on the stream). Only sent ops can sit unwritten in the secondary's queue
   * when "synced" arrives: ops made while nobody was connected were copied by the reintegration itself.
   */
  note(op: TreeOp, inSync: boolean, now: number, sent = inSync): void {
    if (this.#closed) return;
    this.#recent.note(op);
    if (!inSync) this.state.map.note(op);
    if (sent) this.#tail.push({ at: now, op: lighten(op) });
    let old = 0;
    while (old < this.#tail.length && this.#tail[old].at < now - TAIL_MS) old++;
    if (old > 0) this.#tail.splice(0, old);
  }

  /** Called every 30 s: the window keeps the ops of the last 30 to 60 s. */
  rotate(): void {
    this.#previous = this.#recent;
    this.#recent = new ZoneMap(this.state.map.zoneSize);
  }

  /** The secondary was lost: what it may not have written yet goes into the map. */
  secondaryLost(): void {
    this.state.map.merge(this.#previous);
    this.state.map.merge(this.#recent);
  }

  /** The secondary finished its reintegration: a new sync point. */
  secondarySynced(now: number): void {
    this.state.map.clear();
    this.state.generation++;
    this.state.sinceMs = now;
    this.state.trusted = true;
    this.#previous = new ZoneMap(this.state.map.zoneSize);
    this.#recent = new ZoneMap(this.state.map.zoneSize);
    for (const t of this.#tail) if (t.at >= now - TAIL_MS) this.#recent.note(t.op);
    if (!this.#closed) writeFileDurably(this.file, encodeZoneFile(this.state, false));
  }

  /** The answer to a zone-map query for directory `dir`. */
  answer(dir: string, maxBytes: number, extras: DirExtras | null = null): Uint8Array {
    return encodeZoneAnswer(this.state, dir, maxBytes, extras);
  }

  /** Clean stop: the whole map, trusted at the next start. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    writeFileDurably(this.file, encodeZoneFile(this.state, true));
  }
}
